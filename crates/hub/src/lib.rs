//! dmlft-hub: a small Hugging Face Hub client that treats the server as untrusted. It lists a
//! repository, downloads files into the standard Hugging Face cache (huggingface_hub's layout,
//! shared with the Python tools) and verifies each against its etag before it counts as cached.
//!
//! - Every server value that becomes a path is validated first: the commit (40 hex), the etag
//!   (40 or 64 hex: the git blob sha1 or the LFS sha256), file names (plain relative names).
//! - Connect and read timeouts, a redirect limit, the token dropped on a redirect to another
//!   host, bounded retries with backoff ([`Limits`]).
//! - The announced size is checked against the file list and the free disk space before a byte
//!   is written; a body is never read past it; a mismatch leaves nothing behind.
//!
//! Used by dmlft-model for checkpoints; knows nothing of models (datasets use [`RepoKind::Dataset`]).
// Unsafe code only in `space` (one libc statvfs call), allowed there alone.
#![deny(unsafe_code)]

mod env;
mod error;
mod http;
pub mod names;
mod repo;
mod space;
mod verify;

pub use env::{EnvSettings, DEFAULT_ENDPOINT, DEFAULT_TIMEOUT};
pub use error::HubError;
pub use http::{Client, Limits};
pub use repo::{cache_folder_name, Hub, ListedFile, Repo, RepoKind, RepoLock};
