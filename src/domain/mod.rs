//! Types and rules with no I/O. Input becomes one of these typed values at the
//! boundary (parse, don't validate); each type's tests sit beside it.

mod access;
mod account;
pub mod formats;
pub mod invoice;
mod local_path;
pub mod periods;
pub mod text;
pub mod timesheet;
pub mod tracking;

pub use access::{Permission, Role};
pub use account::{Email, Password, Timezone, Username, ValidationError};
pub use local_path::LocalPath;
