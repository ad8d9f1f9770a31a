//! CloudWatch through the CBOR front, on moto: the current SDK (RPC v2 CBOR) reads and
//! writes metrics, and what moto cannot do still fails or comes back empty, as the
//! tests' header (tests/src/lib.rs) lists. Nothing is answered by the front itself.

use anyhow::Result;
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::operation::get_dashboard::GetDashboardError;
use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_smithy_types::DateTime;
use sloguard_e2e::REGION;
use sloguard_testing::emulator::{self, Moto, Point};

const T0: i64 = 1_767_225_600; // a whole hour; moto keeps what it is given

fn point(metric: &str, t: i64, value: f64) -> Point {
    Point {
        namespace: "Front".into(),
        metric: metric.into(),
        dimensions: vec![("Service".into(), "checkout".into())],
        timestamp: t,
        value,
    }
}

fn stat(id: &str, metric: &str) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("Front")
                        .metric_name(metric)
                        .dimensions(
                            aws_sdk_cloudwatch::types::Dimension::builder()
                                .name("Service")
                                .value("checkout")
                                .build(),
                        )
                        .build(),
                )
                .period(60)
                .stat("Sum")
                .build(),
        )
        .build()
}

async fn start() -> Result<(Moto, aws_sdk_cloudwatch::Client)> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    let cw = aws_sdk_cloudwatch::Client::new(&moto.sdk_config(REGION).await);
    Ok((moto, cw))
}

#[tokio::test]
async fn metrics_written_and_read_through_the_front_are_moto_s() -> Result<()> {
    let (_moto, cw) = start().await?;
    // 600 points: one call of 500 is large enough for the SDK to gzip it.
    let points: Vec<Point> = (0..600)
        .map(|i| point("Requests", T0 + 60 * i, (i % 7) as f64))
        .collect();
    assert_eq!(emulator::put_metrics(&cw, &points).await?, 2);
    let out = cw
        .get_metric_data()
        .start_time(DateTime::from_secs(T0))
        .end_time(DateTime::from_secs(T0 + 600 * 60))
        .scan_by(ScanBy::TimestampAscending)
        .metric_data_queries(stat("r", "Requests"))
        .send()
        .await?;
    let r = &out.metric_data_results()[0];
    let got: Vec<(i64, f64)> = r
        .timestamps()
        .iter()
        .map(|t| t.secs())
        .zip(r.values().iter().copied())
        .collect();
    let want: Vec<(i64, f64)> = points.iter().map(|p| (p.timestamp, p.value)).collect();
    assert_eq!(
        got, want,
        "every point, in order, whole values read as doubles"
    );
    assert_eq!(r.label(), Some("Requests Sum"));
    Ok(())
}

#[tokio::test]
async fn what_moto_cannot_do_is_not_hidden_by_the_front() -> Result<()> {
    let (_moto, cw) = start().await?;
    let points: Vec<Point> = (0..3).map(|i| point("Errors", T0 + 60 * i, 1.0)).collect();
    emulator::put_metrics(&cw, &points).await?;

    // Metric math: moto computes no expression, the result comes back empty.
    let math = cw
        .get_metric_data()
        .start_time(DateTime::from_secs(T0))
        .end_time(DateTime::from_secs(T0 + 3600))
        .metric_data_queries(stat("e", "Errors"))
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("twice")
                .expression("e * 2")
                .build(),
        )
        .send()
        .await?;
    let twice = math
        .metric_data_results()
        .iter()
        .find(|r| r.id() == Some("twice"))
        .expect("a result for the expression");
    assert!(
        twice.values().is_empty(),
        "moto now computes math: {twice:?}"
    );

    // MaxDatapoints: moto returns everything at once, never a NextToken.
    let capped = cw
        .get_metric_data()
        .start_time(DateTime::from_secs(T0))
        .end_time(DateTime::from_secs(T0 + 3600))
        .max_datapoints(1)
        .metric_data_queries(stat("e", "Errors"))
        .send()
        .await?;
    assert_eq!(capped.metric_data_results()[0].values().len(), 3);
    assert_eq!(capped.next_token(), None);

    // A modelled error keeps its type and the Query code (CloudWatch is query-compatible).
    let missing = cw
        .get_dashboard()
        .dashboard_name("nope")
        .send()
        .await
        .expect_err("no such dashboard")
        .into_service_error();
    assert!(
        matches!(missing, GetDashboardError::DashboardNotFoundError(_)),
        "{missing:?}"
    );
    assert_eq!(missing.code(), Some("ResourceNotFound"));

    // An operation moto does not implement still fails, and says where.
    let image = cw
        .get_metric_widget_image()
        .metric_widget("{}")
        .send()
        .await
        .expect_err("moto draws no widgets")
        .into_service_error();
    assert_eq!(image.code(), Some("InternalFailure"));
    assert!(
        image
            .message()
            .unwrap_or_default()
            .contains("moto answered GetMetricWidgetImage"),
        "{image:?}"
    );
    Ok(())
}
