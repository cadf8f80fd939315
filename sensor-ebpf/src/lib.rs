//! Host-side library target of the kernel programs. It is empty: it exists so
//! that the sensor's build script can depend on this package, which makes
//! cargo rebuild the sensor when these programs change.
#![no_std]
