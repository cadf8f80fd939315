//! tracefs must be mounted for tracepoints to attach. Many hosts mount it at
//! boot; some (minimal VMs, some container hosts) do not, so the sensor mounts
//! it itself when it can.

use std::{
    ffi::CString,
    io,
    path::{Path, PathBuf},
};

pub const DEFAULT_PATH: &str = "/sys/kernel/tracing";

#[derive(Debug, thiserror::Error)]
pub enum TracefsError {
    #[error("tracefs is not mounted at {path} and mounting it failed: {source}; mount it with `mount -t tracefs nodev {path}` (needs root / CAP_SYS_ADMIN), or pass --tracefs with where it is mounted")]
    Mount {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// True when `path` holds a mounted tracefs (it has an `events` directory).
pub fn is_mounted(path: &Path) -> bool {
    path.join("events").is_dir()
}

/// Mounts tracefs at `path` unless it is there already. Returns whether it
/// mounted it.
pub fn ensure_mounted(path: &Path) -> Result<bool, TracefsError> {
    if is_mounted(path) {
        return Ok(false);
    }
    let mount = || -> io::Result<()> {
        let target = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))?;
        let fstype = c"tracefs";
        let source = c"nodev";
        // SAFETY: valid NUL-terminated strings; no data argument.
        let rc = unsafe {
            libc::mount(source.as_ptr(), target.as_ptr(), fstype.as_ptr(), 0, std::ptr::null())
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    };
    mount().map_err(|source| TracefsError::Mount { path: path.to_owned(), source })?;
    tracing::info!(path = %path.display(), "mounted tracefs");
    Ok(true)
}
