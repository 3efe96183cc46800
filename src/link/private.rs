//! Private copies for packages whose scripts run: every file is a reflink
//! (copy-on-write) or a plain copy, never a hardlink, so a script writing
//! into its package folder cannot reach the cache.

use rayon::prelude::*;

use crate::cancel::CancelToken;
use crate::error::Result;

use super::{check_relative, create_dirs, fsops, io_err, LinkJob, LinkStats, Method};

/// Materialize `jobs` as private copies (reflink where the filesystem
/// supports it, else copy). Existing destination files (possibly hardlinks
/// into the cache) are unlinked and re-created, never written through.
pub fn clone_private(jobs: &[LinkJob], cancel: &CancelToken) -> Result<LinkStats> {
    cancel.check()?;
    create_dirs(jobs, true)?;
    jobs.par_iter().try_for_each(|job| -> Result<()> {
        cancel.check()?;
        job.files.par_iter().try_for_each(|rel| {
            check_relative(rel)?;
            let (src, dst) = (job.src.join(rel), job.dest.join(rel));
            fsops::place_with_fallback(&src, &dst, Method::Reflink)
                .map_err(|e| io_err(&src, &dst, Method::Reflink, e))
        })
    })?;
    Ok(LinkStats {
        packages: jobs.len(),
        files: jobs.iter().map(|j| j.files.len()).sum(),
        method: Method::Copy,
    })
}
