//! Types and rules with no I/O. Input becomes one of these typed values at the
//! boundary (parse, don't validate); each type's tests sit beside it.

mod account;
pub mod formats;
mod local_path;
pub mod periods;
pub mod text;
pub mod timesheet;
pub mod tracking;

pub use account::{Email, Password, Role, Timezone, Username, ValidationError};
pub use local_path::LocalPath;
