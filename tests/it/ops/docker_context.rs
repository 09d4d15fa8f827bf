//! The clean-context Docker build check fails when the Dockerfile leaves out a folder a declared target needs
//! (`benches/`, which Cargo.toml declares) — at manifest parsing, before anything compiles. Its passing run is
//! the release build in scripts/test.sh.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use igny8::crypto::secrets::random_token;

fn check(dockerfile: &Path) -> (bool, String, Duration) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Its own scratch folders: a broken context must never reach the compiler anyway.
    let scratch = std::env::temp_dir().join(format!("igny8-ctx-run-{}", random_token(6).replace(['-', '_'], "x")));
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(root.join("scripts/docker-context-check.sh"))
        .env("DOCKERFILE", dockerfile)
        .env("IGNY8_CONTEXT_TARGET", scratch.join("target"))
        .env("TMPDIR", &scratch)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&scratch);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned(), started.elapsed())
}

fn variant(tag: &str, edit: impl Fn(&str) -> String) -> std::path::PathBuf {
    let original = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/Dockerfile")).unwrap();
    let dir = std::env::temp_dir().join(format!("igny8-ctx-{}", random_token(6).replace(['-', '_'], "x")));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("Dockerfile.{tag}"));
    std::fs::write(&p, edit(&original)).unwrap();
    p
}

#[test]
fn a_dockerfile_that_leaves_out_a_declared_target_folder_fails_before_compiling() {
    let original = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/Dockerfile")).unwrap();
    assert!(original.lines().any(|l| l.trim() == "COPY benches ./benches"), "the Dockerfile copies benches/");
    assert!(original.contains("cargo build --release --locked"));

    let without_benches = variant("nobenches", |s| s.lines().filter(|l| !l.starts_with("COPY benches")).collect::<Vec<_>>().join("\n"));
    let (ok, err, took) = check(&without_benches);
    assert!(!ok, "the check passed without benches/:\n{err}");
    assert!(err.contains("failed to parse manifest") && err.contains("bench"), "{err}");
    assert!(!err.contains("Compiling"), "it compiled before failing:\n{err}");
    assert!(took < Duration::from_secs(60), "took {took:?}");

    // A COPY of a path that does not exist, and a build without the lock file, are refused too.
    let (ok, err, _) = check(&variant("missing", |s| s.replace("COPY static ./static", "COPY assets ./assets")));
    assert!(!ok && err.contains("COPY assets: no such path"), "{err}");
    let (ok, err, _) = check(&variant("unlocked", |s| s.replace("--locked ", "")));
    assert!(!ok && err.contains("--locked"), "{err}");
}
