//! HTTP pieces the pages (`web/`) and the API (`api/`) share: extractors
//! whose rejections are `AppError`s, and the export download response. Neither
//! side reaches into the other for them.

pub mod download;
pub mod extract;
