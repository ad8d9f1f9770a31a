//! A real browser for pages people see: headless Chromium from Debian
//! (`chromium-headless-shell`, installed by the Makefile and `.ci/run`), to dump the
//! DOM it built and take screenshots whose pixels the tests check.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The browser: `$SLOGUARD_CHROMIUM`, else `chromium-headless-shell` or `chromium` on PATH.
/// A missing browser is an error, never a skipped test.
pub fn find() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SLOGUARD_CHROMIUM") {
        return Ok(PathBuf::from(p));
    }
    for name in ["chromium-headless-shell", "chromium", "chromium-browser"] {
        if let Some(dir) = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .find(|d| d.join(name).is_file())
        {
            return Ok(dir.join(name));
        }
    }
    bail!("no headless Chromium: run `make browser` (apt-get install chromium-headless-shell) or set SLOGUARD_CHROMIUM")
}

fn run(args: &[&str]) -> Result<std::process::Output> {
    let browser = find()?;
    let out = Command::new(&browser)
        .args([
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
        ])
        .args(args)
        .output()
        .with_context(|| format!("cannot run {}", browser.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            browser.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// The DOM the browser built from `page` (a local HTML file).
pub fn dump_dom(page: &Path) -> Result<String> {
    let url = format!("file://{}", page.canonicalize()?.display());
    let out = run(&["--dump-dom", &url])?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A PNG screenshot of `page` at `width` x `height`, written to `png`.
pub fn screenshot(page: &Path, png: &Path, width: u32, height: u32) -> Result<()> {
    let url = format!("file://{}", page.canonicalize()?.display());
    run(&[
        &format!("--screenshot={}", png.display()),
        &format!("--window-size={width},{height}"),
        &url,
    ])?;
    if !png.is_file() {
        bail!("no screenshot was written to {}", png.display());
    }
    Ok(())
}
