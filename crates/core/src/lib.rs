//! The pure core of ficus, with no I/O and no clock reads (`now` is always an argument):
//!
//! - [`fic`]: the domain — the FIC model, rules, Managed Identity auto-fill, diagnosis of a
//!   failed exchange, AADSTS explanations, GUID resolution over given data, and the requests
//!   and exports built from a FIC;
//! - [`jwt`]: JWT decoding, RS256 verification with given keys, the claim catalogue;
//! - [`audit`]: the tenant audit (every FIC, credential and managed identity at once);
//! - [`cloud`]: the national clouds and their endpoints;
//! - [`secret`]: `Secret<T>`, which never prints what it holds;
//! - [`text`]: the one sanitizer for tenant-controlled text, display widths, time in words;
//! - [`workload`]: the workload's side of a FIC, as programs per SDK filled with its values.
//!
//! Every other crate of the workspace builds on this one; it depends on none of them.

pub mod audit;
pub mod cloud;
pub mod fic;
pub mod jwt;
pub mod secret;
pub mod text;
pub mod workload;
