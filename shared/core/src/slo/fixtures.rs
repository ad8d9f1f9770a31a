//! The SLO the domain and use-case tests share (test-only): checkout, a ratio of errors to
//! requests over 30 days at 99.9%, named by the alarm `checkout-5xx-high`.

/// The checkout SLO as an OpenSLO file.
pub fn checkout_yaml() -> String {
    r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout
  annotations:
    sloguard.dev/alarms: checkout-5xx-high
spec:
  service: webshop
  indicator:
    metadata:
      name: checkout-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: CloudWatch
            spec: {region: eu-west-1, namespace: Test, metricName: Errors, stat: Sum}
        total:
          metricSource:
            type: CloudWatch
            spec: {region: eu-west-1, namespace: Test, metricName: Requests, stat: Sum}
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"#
    .to_string()
}
