//! Git dependency specifiers, as npm-package-arg and hosted-git-info read
//! them, and the `resolved` URL npm (pacote) writes to the lockfile.

use reqwest::Url;

/// A known git host (hosted-git-info's `github`, `gitlab`, `bitbucket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Github,
    Gitlab,
    Bitbucket,
}

impl Host {
    /// The shortcut prefix: `github`, `gitlab`, `bitbucket`.
    pub fn name(self) -> &'static str {
        match self {
            Host::Github => "github",
            Host::Gitlab => "gitlab",
            Host::Bitbucket => "bitbucket",
        }
    }

    /// The host name: `github.com`, …
    pub fn domain(self) -> &'static str {
        match self {
            Host::Github => "github.com",
            Host::Gitlab => "gitlab.com",
            Host::Bitbucket => "bitbucket.org",
        }
    }

    fn from_name(name: &str) -> Option<Host> {
        Some(match name {
            "github" => Host::Github,
            "gitlab" => Host::Gitlab,
            "bitbucket" => Host::Bitbucket,
            _ => return None,
        })
    }

    fn from_domain(domain: &str) -> Option<Host> {
        let domain = domain.strip_prefix("www.").unwrap_or(domain);
        [Host::Github, Host::Gitlab, Host::Bitbucket]
            .into_iter()
            .find(|h| h.domain().eq_ignore_ascii_case(domain))
    }

    /// URL schemes hosted-git-info accepts for this host.
    fn accepts(self, scheme: &str) -> bool {
        let common = ["git+ssh", "git+https", "ssh", "https"];
        common.contains(&scheme) || (self == Host::Github && matches!(scheme, "git" | "http"))
    }
}

/// A repository on a known host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosted {
    pub host: Host,
    /// The owner (for gitlab, possibly `group/subgroup`).
    pub user: String,
    /// The repository name, without `.git`.
    pub project: String,
    /// `user[:password]` from an https URL; makes npm keep https.
    pub auth: Option<String>,
}

impl Hosted {
    /// `https://[auth@]github.com/user/project.git`.
    pub fn https_url(&self) -> String {
        let auth = self
            .auth
            .as_ref()
            .map_or(String::new(), |a| format!("{a}@"));
        format!(
            "https://{auth}{}/{}/{}.git",
            self.host.domain(),
            self.user,
            self.project
        )
    }

    /// `git@github.com:user/project.git` (what git takes for ssh).
    pub fn ssh_url(&self) -> String {
        format!(
            "git@{}:{}/{}.git",
            self.host.domain(),
            self.user,
            self.project
        )
    }

    /// `github:user/project`.
    pub fn shortcut(&self) -> String {
        format!("{}:{}/{}", self.host.name(), self.user, self.project)
    }
}

/// A parsed git dependency specifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSpec {
    /// The specifier as written.
    pub raw: String,
    /// Set for github/gitlab/bitbucket repositories, however written.
    pub hosted: Option<Hosted>,
    /// The URL handed to git for a non-hosted spec (`git+` and `#…`
    /// removed); for hosted specs, [`Hosted::https_url`].
    pub url: String,
    /// `#<committish>`: a branch, tag, full or short sha, or any ref.
    pub committish: Option<String>,
    /// `#semver:<range>`: the highest tag satisfying it.
    pub range: Option<String>,
    /// `#…::path:<dir>`: the package lives in this subdirectory.
    pub subdir: Option<String>,
}

impl GitSpec {
    /// The URLs to try, in order: for hosted repositories https then ssh
    /// (pacote's order; ssh reaches private repositories), else the one URL.
    pub fn clone_urls(&self) -> Vec<String> {
        match &self.hosted {
            Some(h) if h.auth.is_none() => vec![h.https_url(), h.ssh_url()],
            Some(h) => vec![h.https_url()],
            None => vec![self.url.clone()],
        }
    }

    /// The lockfile's `resolved` for this spec at commit `sha`, as pacote
    /// writes it: `git+ssh://git@github.com/user/repo.git#<sha>` for hosted
    /// repositories (`git+https://…` when the URL carries credentials), and
    /// the spec as written with its fragment replaced by `#<sha>` otherwise
    /// (`git+file:///repo.git#<sha>`, `git://host/repo.git#<sha>`, …).
    pub fn resolved_url(&self, sha: &str) -> String {
        match &self.hosted {
            Some(h) if h.auth.is_some() => format!("git+{}#{sha}", h.https_url()),
            Some(h) => format!(
                "git+ssh://git@{}/{}/{}.git#{sha}",
                h.host.domain(),
                h.user,
                h.project
            ),
            None => {
                let base = self.raw.split('#').next().unwrap_or(&self.raw);
                format!("{base}#{sha}")
            }
        }
    }

    /// A short name for messages: `github:user/repo` or the URL.
    pub fn display_name(&self) -> String {
        match &self.hosted {
            Some(h) => h.shortcut(),
            None => self.url.clone(),
        }
    }
}

/// Parses `raw` as a git specifier; `None` when it is not one (registry
/// ranges, tarball URLs, `file:` paths, …) or is malformed.
pub fn parse(raw: &str) -> Option<GitSpec> {
    let raw = raw.trim();
    let (body, fragment) = match raw.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (raw, None),
    };
    let (hosted, url) = if let Some(hosted) = parse_shortcut(body) {
        let url = hosted.https_url();
        (Some(hosted), url)
    } else if let Some(hosted) = parse_scp(body) {
        let url = hosted.https_url();
        (Some(hosted), url)
    } else if let Some(scp) = scp_url(body) {
        // git+ssh://git@host:path (not a URL: git takes it as scp syntax).
        (None, scp)
    } else {
        parse_url(body)?
    };
    let mut spec = GitSpec {
        raw: raw.to_string(),
        hosted,
        url,
        committish: None,
        range: None,
        subdir: None,
    };
    if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
        set_git_attrs(&mut spec, &percent_decode(fragment))?;
    }
    Some(spec)
}

/// npm-package-arg's `setGitAttrs`: `::`-separated committish, `semver:`
/// and `path:` parts. Conflicting parts make the spec invalid (`None`).
fn set_git_attrs(spec: &mut GitSpec, fragment: &str) -> Option<()> {
    for part in fragment.split("::") {
        match part.split_once(':') {
            None => {
                if spec.committish.is_some() || spec.range.is_some() {
                    return None;
                }
                spec.committish = Some(part.to_string()).filter(|p| !p.is_empty());
            }
            Some(("semver", range)) => {
                if spec.committish.is_some() || spec.range.is_some() {
                    return None;
                }
                spec.range = Some(range.to_string());
            }
            Some(("path", path)) => {
                if spec.subdir.is_some() {
                    return None;
                }
                let path = path.trim_matches('/');
                if path.split('/').any(|c| c == "..") {
                    return None; // must stay inside the repository
                }
                spec.subdir = Some(path.to_string()).filter(|p| !p.is_empty());
            }
            Some(_) => {} // npm warns and ignores unknown keys
        }
    }
    Some(())
}

/// `github:user/repo`, `gitlab:group/sub/repo`, `bitbucket:user/repo`, and
/// the bare GitHub shorthand `user/repo`.
fn parse_shortcut(body: &str) -> Option<Hosted> {
    let (host, path) = match body.split_once(':') {
        Some((name, path)) => (Host::from_name(name)?, path),
        None if is_github_shorthand(body) => (Host::Github, body),
        None => return None,
    };
    let path = path.trim_start_matches('/');
    let (user, project) = path.rsplit_once('/')?;
    let project = project.strip_suffix(".git").unwrap_or(project);
    if user.starts_with('@') {
        return None;
    }
    hosted(host, user, project)
}

/// A hosted repository, if `user` and `project` are valid for `host` (only
/// gitlab has nested groups).
fn hosted(host: Host, user: &str, project: &str) -> Option<Hosted> {
    if user.is_empty() || project.is_empty() || (host != Host::Gitlab && user.contains('/')) {
        return None;
    }
    Some(Hosted {
        host,
        user: user.to_string(),
        project: project.to_string(),
        auth: None,
    })
}

/// npm-package-arg's `isGitHubShorthand` (for the part before `#`): one
/// slash, not at either end, no `@`, `:`, whitespace, no leading dot.
fn is_github_shorthand(body: &str) -> bool {
    body.matches('/').count() == 1
        && !body.starts_with('/')
        && !body.ends_with('/')
        && !body.starts_with('.')
        && !body.contains(['@', ':'])
        && !body.contains(char::is_whitespace)
}

/// `git@github.com:user/repo.git` and `git+ssh://git@github.com:user/repo.git`
/// on a known host.
fn parse_scp(body: &str) -> Option<Hosted> {
    let rest = body.strip_prefix("git+ssh://").unwrap_or(body);
    let (userhost, path) = rest.split_once(':')?;
    let (_, host) = userhost.split_once('@')?;
    let host = Host::from_domain(host)?;
    if path.starts_with('/') || path.bytes().take_while(u8::is_ascii_digit).count() > 0 {
        return None;
    }
    let (user, project) = path.rsplit_once('/')?;
    let project = project.strip_suffix(".git").unwrap_or(project);
    hosted(host, user, project)
}

/// npm-package-arg's scp-style `git+ssh://user@host:path` (a required user,
/// a non-numeric "port") on any host: the git URL is `user@host:path`.
fn scp_url(body: &str) -> Option<String> {
    let rest = body.strip_prefix("git+ssh://")?;
    let (userhost, path) = rest.split_once(':')?;
    let numeric_port = {
        let digits = path.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && (digits == path.len() || path.as_bytes()[digits] == b'/')
    };
    if !userhost.contains('@') || userhost.contains('/') || numeric_port || path.is_empty() {
        return None;
    }
    Some(rest.to_string())
}

/// `git+https://`, `git+ssh://`, `git://`, `git+file://`, … URLs, and
/// `https://` / `ssh://` URLs of known hosts.
fn parse_url(body: &str) -> Option<(Option<Hosted>, String)> {
    let url = Url::parse(body).ok()?;
    let scheme = url.scheme();
    if let Some(hosted) = hosted_from_url(&url) {
        let url = hosted.https_url();
        return Some((Some(hosted), url));
    }
    let git_url = match scheme {
        "git" => body.to_string(),
        "git+http" | "git+https" | "git+rsync" | "git+ftp" | "git+file" | "git+ssh" => {
            body["git+".len()..].to_string()
        }
        _ => return None,
    };
    Some((None, git_url))
}

/// hosted-git-info's `fromUrl` for a parsed URL.
fn hosted_from_url(url: &Url) -> Option<Hosted> {
    let host = Host::from_domain(url.host_str()?)?;
    if !host.accepts(url.scheme()) {
        return None;
    }
    let path = url.path().trim_matches('/');
    let segments: Vec<&str> = path.split('/').collect();
    let (user, project) = match host {
        Host::Gitlab => {
            if path.contains("/-/") || path.contains("/archive.tar.gz") {
                return None;
            }
            let (user, project) = path.rsplit_once('/')?;
            (user.to_string(), project)
        }
        _ => {
            // github.com/user/repo(/tree/<ref>) is a repository; other
            // pages (archives, …) are not.
            if segments.len() != 2 {
                return None;
            }
            (segments[0].to_string(), segments[1])
        }
    };
    let project = project.strip_suffix(".git").unwrap_or(project);
    if user.is_empty() || project.is_empty() {
        return None;
    }
    let auth_scheme = !matches!(url.scheme(), "ssh" | "git+ssh");
    let auth = match (url.username(), url.password()) {
        _ if !auth_scheme => None,
        ("", None) => None,
        (user, None) => Some(user.to_string()),
        (user, Some(pass)) => Some(format!("{user}:{pass}")),
    };
    Some(Hosted {
        host,
        user,
        project: project.to_string(),
        auth,
    })
}

/// `decodeURIComponent`, leaving malformed escapes as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}
