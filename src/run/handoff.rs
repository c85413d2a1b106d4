//! Handing a run's results over from where it ran (a Job's pod, a Sonobuoy
//! plugin) to whoever asks: the run folder as one gzip tar, the exit code
//! beside it, optionally a Sonobuoy `done` file naming the archive, and a
//! wait until `inplace-conformance results` has taken it (a pod's files go
//! with the pod).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::judge::gate::exit;
use crate::model::event;

/// Where `results` looks when not told (the Job's results volume).
pub const DEFAULT_ARCHIVE: &str = "/results/inplace-conformance.tar.gz";

pub struct Handoff {
    pub archive: PathBuf,
    pub done_file: Option<PathBuf>,
    pub hold: Option<Duration>,
}

/// `FILE.exit`: the run's exit code, written once the archive is whole.
fn exit_file(archive: &Path) -> PathBuf {
    suffixed(archive, "exit")
}

/// `FILE.taken`: written by `results` once it has streamed the archive.
fn taken_file(archive: &Path) -> PathBuf {
    suffixed(archive, "taken")
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{suffix}"));
    PathBuf::from(name)
}

impl Handoff {
    /// Writes the archive and the code, signals, holds; returns the run's
    /// code (an archive that cannot be written is an infrastructure
    /// failure of a run that passed). A run refused before it had a folder
    /// (bad input, no cluster, a registry the nodes cannot pull from)
    /// hands over its code alone: its one-line cause is in the log.
    pub async fn deliver(&self, run_dir: Option<&Path>, code: u8) -> u8 {
        let Some(run_dir) = run_dir else {
            if let Err(err) = self.write_code(code) {
                event::warn("results", format!("no exit code written: {err:#}"));
            }
            if let Some(hold) = self.hold {
                self.wait_taken(hold).await;
            }
            return code;
        };
        if let Err(err) = self.write(run_dir, code) {
            event::warn("results", format!("no results archive: {err:#}"));
            return if code == exit::PASSED {
                exit::INFRASTRUCTURE
            } else {
                code
            };
        }
        event::note(
            "results",
            format!(
                "run folder archived to {} (exit code {code}); `inplace-conformance results` \
                 hands it over",
                self.archive.display()
            ),
        );
        if let Some(hold) = self.hold {
            self.wait_taken(hold).await;
        }
        code
    }

    fn write(&self, run_dir: &Path, code: u8) -> anyhow::Result<()> {
        let part = suffixed(&self.archive, "part");
        write_archive(run_dir, &part)?;
        std::fs::rename(&part, &self.archive)
            .with_context(|| format!("renaming {} into place", part.display()))?;
        self.write_code(code)?;
        if let Some(done) = &self.done_file {
            // Sonobuoy's worker reads the path of the results from it.
            std::fs::write(done, self.archive.display().to_string())
                .with_context(|| format!("writing {}", done.display()))?;
        }
        Ok(())
    }

    /// `FILE.exit`, the sign for `results` that the run has ended.
    fn write_code(&self, code: u8) -> anyhow::Result<()> {
        std::fs::write(exit_file(&self.archive), format!("{code}\n"))
            .context("writing the exit code")
    }

    async fn wait_taken(&self, hold: Duration) {
        event::note(
            "results",
            format!(
                "holding for up to {} s until they are taken: kubectl exec ... -- \
                 inplace-conformance results > results.tar.gz",
                hold.as_secs()
            ),
        );
        let deadline = tokio::time::Instant::now() + hold;
        while tokio::time::Instant::now() < deadline {
            if taken_file(&self.archive).exists() {
                event::note("results", "taken; ending".to_string());
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        event::warn(
            "results",
            format!("nobody took them within {} s; ending", hold.as_secs()),
        );
    }
}

/// The run folder as `<run-id>/...` in a gzip tar.
pub fn write_archive(run_dir: &Path, to: &Path) -> anyhow::Result<()> {
    let name = run_dir
        .file_name()
        .with_context(|| format!("{} names no folder", run_dir.display()))?;
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let file = std::fs::File::create(to).with_context(|| format!("creating {}", to.display()))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(name, run_dir)
        .with_context(|| format!("archiving {}", run_dir.display()))?;
    tar.into_inner()
        .and_then(|gz| gz.finish())
        .with_context(|| format!("finishing {}", to.display()))?;
    Ok(())
}

/// `inplace-conformance results`: waits up to `wait` for the run's end,
/// streams the archive to stdout, marks it taken, and returns the run's
/// exit code.
pub async fn take(archive: &Path, wait: Duration) -> u8 {
    let code_file = exit_file(archive);
    let deadline = tokio::time::Instant::now() + wait;
    let mut said = false;
    while !code_file.exists() {
        if tokio::time::Instant::now() >= deadline {
            eprintln!(
                "error: no finished run at {} within {} s; hint: the run is still going \
                 (see the pod's log), or it was started without --results-archive {}",
                archive.display(),
                wait.as_secs(),
                archive.display()
            );
            return exit::INFRASTRUCTURE;
        }
        if !said {
            eprintln!("waiting for the run to end ({})", code_file.display());
            said = true;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let code = std::fs::read_to_string(&code_file)
        .ok()
        .and_then(|t| t.trim().parse::<u8>().ok())
        .unwrap_or(exit::INFRASTRUCTURE);
    if !archive.exists() {
        let _ = std::fs::write(taken_file(archive), "");
        eprintln!(
            "error: the run ended with exit {code} before it wrote a run folder; hint: its log \
             says why (kubectl logs job/NAME)"
        );
        return code;
    }
    let streamed = std::fs::File::open(archive).and_then(|mut file| {
        let mut stdout = std::io::stdout().lock();
        std::io::copy(&mut file, &mut stdout)?;
        std::io::Write::flush(&mut stdout)
    });
    if let Err(err) = streamed {
        eprintln!("error: streaming {}: {err}", archive.display());
        return exit::INFRASTRUCTURE;
    }
    let _ = std::fs::write(taken_file(archive), "");
    eprintln!("results of a run that exited {code}");
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_archive_holds_the_run_folder_and_the_code_is_handed_over() {
        let base = std::env::temp_dir().join(format!("ipc-handoff-{}", crate::short_id()));
        let run_dir = base.join("20261207T000000Z-abc");
        std::fs::create_dir_all(run_dir.join("observations")).unwrap();
        std::fs::write(run_dir.join("junit.xml"), "<testsuites/>").unwrap();
        std::fs::write(run_dir.join("observations/a.json"), "{}").unwrap();
        let handoff = Handoff {
            archive: base.join("out/results.tar.gz"),
            done_file: Some(base.join("out/done")),
            hold: None,
        };
        assert_eq!(handoff.deliver(Some(&run_dir), exit::GATE_FAILED).await, 1);
        let done = std::fs::read_to_string(base.join("out/done")).unwrap();
        assert_eq!(PathBuf::from(done), handoff.archive);
        let file = std::fs::File::open(&handoff.archive).unwrap();
        let mut names: Vec<String> = tar::Archive::new(flate2::read::GzDecoder::new(file))
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .filter(|n| n.ends_with(".xml") || n.ends_with(".json"))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "20261207T000000Z-abc/junit.xml",
                "20261207T000000Z-abc/observations/a.json"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(exit_file(&handoff.archive)).unwrap(),
            "1\n"
        );
        std::fs::remove_dir_all(base).unwrap();
    }

    #[tokio::test]
    async fn a_run_refused_before_its_folder_hands_over_its_code() {
        let base = std::env::temp_dir().join(format!("ipc-refused-{}", crate::short_id()));
        std::fs::create_dir_all(&base).unwrap();
        let handoff = Handoff {
            archive: base.join("results.tar.gz"),
            done_file: None,
            hold: None,
        };
        assert_eq!(handoff.deliver(None, exit::INFRASTRUCTURE).await, 3);
        assert_eq!(take(&handoff.archive, Duration::ZERO).await, 3);
        assert!(taken_file(&handoff.archive).exists());
        std::fs::remove_dir_all(base).unwrap();
    }

    #[tokio::test]
    async fn asking_before_any_run_ended_says_so() {
        let archive = std::env::temp_dir().join(format!("ipc-none-{}.tar.gz", crate::short_id()));
        assert_eq!(take(&archive, Duration::ZERO).await, exit::INFRASTRUCTURE);
    }
}
