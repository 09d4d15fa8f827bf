//! The few cryptographic helpers every layer needs, below all of them: random tokens, digests, keys derived for
//! one purpose, constant-time comparison (`secrets`), and sealing stored secrets with AES-256-GCM (`vault`).

pub mod secrets;
pub mod vault;
