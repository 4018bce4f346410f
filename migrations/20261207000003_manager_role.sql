-- A third role between administrator and plain user: a manager sees and
-- changes the team's time, manages clients, projects and tasks and sees rates
-- (src/domain/access.rs declares each role's rights).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'manager', 'user'));
ALTER TABLE invitations DROP CONSTRAINT invitations_role_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_role_check CHECK (role IN ('admin', 'manager', 'user'));
