//! `os` / `cpu` / `libc` checks, as npm-install-checks does them.

/// The platform brisk runs on, in npm's vocabulary.
#[derive(Debug, Clone)]
pub struct Platform {
    pub os: &'static str,
    pub cpu: &'static str,
    pub libc: Option<&'static str>,
}

impl Platform {
    pub fn current() -> Platform {
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            "windows" => "win32",
            other => other,
        };
        let cpu = match std::env::consts::ARCH {
            "x86_64" => "x64",
            "x86" => "ia32",
            "aarch64" => "arm64",
            "powerpc64" => "ppc64",
            other => other,
        };
        let libc = if os == "linux" {
            Some(if cfg!(target_env = "musl") {
                "musl"
            } else {
                "glibc"
            })
        } else {
            None
        };
        Platform { os, cpu, libc }
    }

    /// Does a package declaring these lists install here?
    pub fn accepts(&self, os: &[String], cpu: &[String], libc: &[String]) -> bool {
        list_allows(os, self.os)
            && list_allows(cpu, self.cpu)
            && (libc.is_empty() || self.libc.is_some_and(|l| list_allows(libc, l)))
    }
}

/// npm's rule: `!x` excludes x; if any positive entries exist, the value must
/// be one of them.
fn list_allows(list: &[String], value: &str) -> bool {
    if list.is_empty() {
        return true;
    }
    let mut has_positive = false;
    let mut matched = false;
    for item in list {
        if let Some(neg) = item.strip_prefix('!') {
            if neg == value {
                return false;
            }
        } else {
            has_positive = true;
            if item == value || item == "any" {
                matched = true;
            }
        }
    }
    matched || !has_positive
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lists() {
        let p = Platform {
            os: "linux",
            cpu: "x64",
            libc: Some("glibc"),
        };
        assert!(p.accepts(&[], &[], &[]));
        assert!(p.accepts(&v(&["linux", "darwin"]), &v(&["x64"]), &v(&["glibc"])));
        assert!(!p.accepts(&v(&["darwin"]), &[], &[]));
        assert!(!p.accepts(&v(&["!linux"]), &[], &[]));
        assert!(p.accepts(&v(&["!win32"]), &[], &[]));
        assert!(!p.accepts(&[], &v(&["arm64"]), &[]));
        assert!(!p.accepts(&[], &[], &v(&["musl"])));
    }
}
