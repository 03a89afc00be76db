//! Taking a mutex on a request path: a lock poisoned by an earlier panic becomes an `Internal`
//! error for this request instead of a second panic.

use crate::error::{Error, Result};
use std::sync::{Mutex, MutexGuard};

/// Lock `m`, or fail the request if an earlier panic poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| Error::internal("server state lock poisoned by an earlier panic."))
}
