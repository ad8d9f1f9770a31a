//! `sloguard convert` and OpenSLO v2alpha files: written from v1 and back, refused at the
//! line v2alpha cannot say, validated, and applied on moto as the same SLOs as their v1 twins.

use anyhow::Result;
use sloguard_testing::emulator::{self, Moto};

use super::{scratch, sloguard, text};

#[test]
fn convert_writes_v2alpha_that_validates_and_converts_back() -> Result<()> {
    let dir = scratch("convert");
    let (v2, v1) = (dir.join("v2alpha"), dir.join("v1"));
    let out = sloguard(
        None,
        &[
            "convert",
            "--to",
            "v2alpha",
            "examples/slos/checkout-availability.yaml",
            "examples/slos/chat-wait-time.yaml",
            "--out",
            v2.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("comments are not carried over"),
        "{}",
        text(&out)
    );
    let checkout = std::fs::read_to_string(v2.join("checkout-availability.yaml"))?;
    assert!(
        checkout.contains("apiVersion: openslo.com/v2alpha\n"),
        "{checkout}"
    );
    assert!(
        checkout.contains("    sloguard.dev/display-name: Checkout availability\n"),
        "{checkout}"
    );
    assert!(checkout.contains("  sli:\n"), "{checkout}");
    let valid = sloguard(None, &["validate", v2.to_str().unwrap()]);
    assert!(valid.status.success(), "{}", text(&valid));
    assert!(
        text(&valid).contains("2 files, 2 SLOs: valid"),
        "{}",
        text(&valid)
    );

    let back = sloguard(
        None,
        &[
            "convert",
            "--to",
            "v1",
            v2.to_str().unwrap(),
            "--out",
            v1.to_str().unwrap(),
        ],
    );
    assert!(back.status.success(), "{}", text(&back));
    let chat = std::fs::read_to_string(v1.join("chat-wait-time.yaml"))?;
    assert!(
        chat.contains("  displayName: Live chat wait under a minute\n"),
        "{chat}"
    );
    assert!(chat.contains("metricSource:"), "{chat}");

    // To stdout: the converted text, one `---` between files.
    let stdout = sloguard(
        None,
        &[
            "convert",
            "--to",
            "v2alpha",
            "examples/slos/chat-wait-time.yaml",
        ],
    );
    assert!(stdout.status.success(), "{}", text(&stdout));
    let printed = String::from_utf8_lossy(&stdout.stdout);
    assert!(
        printed.starts_with(
            "# Converted by `sloguard convert --to v2alpha` from examples/slos/chat-wait-time.yaml"
        ),
        "{printed}"
    );
    assert!(
        printed.contains("    - duration: 7d\n      isRolling: true\n"),
        "{printed}"
    );
    Ok(())
}

#[test]
fn convert_refuses_what_v2alpha_cannot_say_at_its_line_and_writes_nothing() -> Result<()> {
    let dir = scratch("convert-refused");
    let out = sloguard(
        None,
        &[
            "convert",
            "--to",
            "v2alpha",
            "examples/slos",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("examples/slos/help-center-monthly.yaml:34: spec.timeWindow[0].duration: `1M` has no v2alpha form"), "{t}");
    assert!(t.contains("nothing written"), "{t}");
    assert_eq!(std::fs::read_dir(&dir)?.count(), 0);
    // A file with problems is not converted: the same lines validate prints.
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: x\nspec:\n  service: s\n",
    )?;
    let out = sloguard(None, &["convert", "--to", "v2alpha", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("bad.yaml:6: spec.indicator: missing required field"),
        "{}",
        text(&out)
    );
    Ok(())
}

#[tokio::test]
async fn a_v2alpha_file_validates_and_applies_as_the_same_slos_as_its_v1_twin() -> Result<()> {
    let dir = scratch("v2alpha-apply");
    let v1 = [
        "examples/slos/alerting.yaml",
        "examples/slos/premium-support.yaml",
        "examples/slos/checkout-availability.yaml",
    ];
    let mut args = vec!["convert", "--to", "v2alpha", "--out", dir.to_str().unwrap()];
    args.extend(v1);
    let out = sloguard(None, &args);
    assert!(out.status.success(), "{}", text(&out));

    // A v2alpha mistake is reported at its line, as v1 ones are.
    let premium = std::fs::read_to_string(dir.join("premium-support.yaml"))?;
    let broken = scratch("v2alpha-broken");
    std::fs::write(
        broken.join("premium.yaml"),
        premium.replace("duration: 28d", "duration: 1M"),
    )?;
    std::fs::copy(dir.join("alerting.yaml"), broken.join("alerting.yaml"))?;
    let line = premium
        .lines()
        .position(|l| l.contains("duration: 28d"))
        .unwrap()
        + 1;
    let out = sloguard(None, &["validate", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("premium.yaml:{line}: spec.timeWindow[0].duration: `1M`: openslo.com/v2alpha durations end in m (minutes), h, d or w")),
        "{}",
        text(&out)
    );

    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let applied = sloguard(Some(&moto), &["apply", dir.to_str().unwrap()]);
    assert!(applied.status.success(), "{}", text(&applied));
    assert!(
        text(&applied).contains("premium-first-response: created"),
        "{}",
        text(&applied)
    );
    assert!(
        text(&applied).contains("checkout-availability: created"),
        "{}",
        text(&applied)
    );
    // The v1 originals are the same SLOs: nothing to store.
    let mut again = vec!["apply"];
    again.extend(v1);
    let out = sloguard(Some(&moto), &again);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("premium-first-response: unchanged"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("checkout-availability: unchanged"),
        "{}",
        text(&out)
    );
    let status = sloguard(Some(&moto), &["status", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&status.stdout)?;
    assert_eq!(rows.as_array().map(Vec::len), Some(2), "{}", text(&status));
    Ok(())
}
