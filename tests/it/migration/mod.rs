//! `igny8 import-wp` against a real MariaDB holding a plugin-shaped WordPress database (see `source`).

mod import;
mod source;
mod switch;
