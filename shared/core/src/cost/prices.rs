//! AWS list prices the cost model uses: the only place they live.
//!
//! **Check these before quoting them.** They are AWS's public on-demand list prices
//! as last checked by hand on [`CHECKED`] from the pricing pages of CloudWatch,
//! DynamoDB, Lambda and KMS (no free tier applied, no Savings Plans, no taxes).
//! AWS changes prices (DynamoDB on-demand halved in November 2024); a wrong figure
//! here is wrong in `sloguard cost` and in the table of docs/deploying.md, so update this
//! file and its date together, then run `make cost-table` and paste the table there.

/// When the prices below were last checked against AWS's pricing pages.
pub const CHECKED: &str = "2025-06-01";

/// Custom metric tiers: (metrics in the tier, $ per metric-month); the last tier is open.
pub type Tiers = &'static [(f64, f64)];

/// The prices of one region, in US dollars.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    /// AWS region code.
    pub region: &'static str,
    /// GetMetricData: per 1,000 metrics requested (each metric of each call).
    pub get_metric_data_per_1000_metrics: f64,
    /// Custom metrics (EMF included), per metric-month, tiered.
    pub custom_metric_tiers: Tiers,
    /// A standard-resolution alarm, per alarm-month.
    pub alarm_month: f64,
    /// A dashboard, per dashboard-month.
    pub dashboard_month: f64,
    /// CloudWatch Logs ingestion (standard class), per GB.
    pub logs_ingest_gb: f64,
    /// CloudWatch Logs storage, per GB-month.
    pub logs_storage_gb_month: f64,
    /// DynamoDB on-demand write request units, per million.
    pub dynamodb_write_million: f64,
    /// DynamoDB on-demand read request units, per million.
    pub dynamodb_read_million: f64,
    /// DynamoDB standard table storage, per GB-month.
    pub dynamodb_storage_gb_month: f64,
    /// DynamoDB point-in-time recovery (continuous backups), per GB-month of table size.
    pub dynamodb_pitr_gb_month: f64,
    /// Lambda arm64 compute, per GB-second.
    pub lambda_arm64_gb_second: f64,
    /// Lambda requests, per million.
    pub lambda_requests_million: f64,
    /// A customer-managed KMS key, per key-month.
    pub kms_key_month: f64,
    /// KMS requests, per 10,000.
    pub kms_requests_10k: f64,
    /// SQS standard queue: per million requests (each up to 64 KB).
    pub sqs_requests_million: f64,
}

const CUSTOM_METRIC_TIERS: Tiers = &[
    (10_000.0, 0.30),
    (240_000.0, 0.10),
    (750_000.0, 0.05),
    (f64::INFINITY, 0.02),
];

const US_EAST_1: Prices = Prices {
    region: "us-east-1",
    get_metric_data_per_1000_metrics: 0.01,
    custom_metric_tiers: CUSTOM_METRIC_TIERS,
    alarm_month: 0.10,
    dashboard_month: 3.00,
    logs_ingest_gb: 0.50,
    logs_storage_gb_month: 0.03,
    dynamodb_write_million: 0.625,
    dynamodb_read_million: 0.125,
    dynamodb_storage_gb_month: 0.25,
    dynamodb_pitr_gb_month: 0.20,
    lambda_arm64_gb_second: 0.000_013_333_4,
    lambda_requests_million: 0.20,
    kms_key_month: 1.00,
    kms_requests_10k: 0.03,
    sqs_requests_million: 0.40,
};

/// Every region whose prices sloguard knows; us-east-1 first (the default).
pub const REGIONS: &[Prices] = &[
    US_EAST_1,
    Prices {
        region: "us-east-2",
        ..US_EAST_1
    },
    Prices {
        region: "us-west-2",
        ..US_EAST_1
    },
    Prices {
        region: "eu-west-1",
        logs_ingest_gb: 0.57,
        logs_storage_gb_month: 0.03,
        dynamodb_write_million: 0.7068,
        dynamodb_read_million: 0.1414,
        dynamodb_storage_gb_month: 0.283,
        dynamodb_pitr_gb_month: 0.226,
        ..US_EAST_1
    },
];

/// The prices of `region`, if sloguard knows them.
pub fn for_region(region: &str) -> Option<&'static Prices> {
    REGIONS.iter().find(|p| p.region == region)
}

impl Prices {
    /// Monthly price of `count` custom metrics through the tiers.
    pub fn custom_metrics_month(&self, count: f64) -> f64 {
        let mut left = count;
        let mut total = 0.0;
        for (size, price) in self.custom_metric_tiers {
            let here = left.min(*size);
            total += here * price;
            left -= here;
            if left <= 0.0 {
                break;
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_metric_tiers_apply_in_order() {
        let p = for_region("us-east-1").unwrap();
        assert!((p.custom_metrics_month(7.0) - 2.10).abs() < 1e-9);
        // 10,000 at $0.30, then 5,000 at $0.10
        assert!((p.custom_metrics_month(15_000.0) - 3_500.0).abs() < 1e-6);
        assert!(for_region("mars-north-1").is_none());
        assert_eq!(REGIONS[0].region, "us-east-1");
    }
}
