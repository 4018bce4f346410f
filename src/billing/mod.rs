//! Billing: invoices made from unbilled billable time.
//!
//! Rule: money is exact (integer cents, `domain::invoice`'s one rounding
//! rule); an invoice's entries belong to it from the draft on, and from its
//! issue until its cancellation they cannot change (a database trigger
//! refuses it, whatever asks); numbers come from the year's gapless
//! sequence, taken in the issuing transaction.

pub mod document;
pub mod invoices;
pub mod seller;
