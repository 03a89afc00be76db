//! [`SimFault`]: the I/O failures a [`super::SimStorage`] can inject.

use std::io;

/// An injected I/O failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimFault {
    /// The disk is full (`ENOSPC`, [`io::ErrorKind::StorageFull`]).
    NoSpace,
    /// A device error (`EIO`).
    Eio,
}

impl SimFault {
    /// The error a failing call returns.
    pub(super) fn to_io(self) -> io::Error {
        match self {
            SimFault::NoSpace => io::Error::new(io::ErrorKind::StorageFull, "injected ENOSPC"),
            SimFault::Eio => io::Error::other("injected EIO"),
        }
    }
}
