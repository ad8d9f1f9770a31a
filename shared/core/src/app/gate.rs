//! The release gate: does every selected SLO meet the policy (budget left, no open
//! incident) so a pipeline may deploy? Read from the stored state, never from CloudWatch.

use serde::Serialize;

use crate::slo::message::pct;
use crate::slo::model::Severity;
use crate::slo::status::Status;

use super::ports::{DefinitionStore, HistoryStore, StateStore, StoreError};
use super::report::near;
use super::select::{Filter, FilterError};

/// What a deploy needs from its SLOs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GatePolicy {
    /// Fraction of the budget that must be left (0.25 for `--min-budget 25%`).
    pub min_budget: Option<f64>,
    /// No incident may be open.
    pub no_open_incident: bool,
}

/// One SLO against the policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateVerdict {
    pub slo: String,
    pub service: String,
    pub status: Status,
    pub budget_remaining: Option<f64>,
    /// `page` or `ticket` when an incident is open.
    pub incident: Option<&'static str>,
    pub pass: bool,
    /// Why it fails, in words.
    pub reasons: Vec<String>,
}

/// Why the gate could not decide (exit 2 in the CLI).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GateError {
    #[error("no SLO named `{name}` in the table{}", if .near.is_empty() { String::new() } else { format!("; did you mean {}?", .near.join(", ")) })]
    UnknownSlo { name: String, near: Vec<String> },
    #[error("no SLO matches the selection{0}")]
    NothingSelected(String),
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Judge the SLOs named (or all those `filter` selects: a team's, a service's, all)
/// against `policy`; names outside the filter are not judged.
pub async fn gate<S: DefinitionStore + StateStore + HistoryStore>(
    store: &S,
    names: &[String],
    filter: &Filter,
    policy: GatePolicy,
) -> Result<Vec<GateVerdict>, GateError> {
    let defs = store.definitions().await?;
    filter.check(&defs)?;
    let stored: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
    if let Some(missing) = names.iter().find(|n| !stored.contains(n)) {
        return Err(GateError::UnknownSlo {
            name: missing.clone(),
            near: near(missing, &stored),
        });
    }
    filter.check_names(names, &defs)?;
    let states = super::latest::states_with_latest(store).await?;
    let mut out = Vec::new();
    for d in &defs {
        let svc = d
            .definition
            .as_ref()
            .map(|x| x.service.clone())
            .unwrap_or_default();
        if (!names.is_empty() && !names.contains(&d.name)) || !filter.matches(d) {
            continue;
        }
        let st = states.get(&d.name);
        let latest = st.and_then(|s| s.latest.as_ref());
        let incident = st
            .and_then(|s| s.state.incident.as_ref())
            .map(|i| match i.severity {
                Severity::Page => "page",
                _ => "ticket",
            });
        let budget = latest.and_then(|l| l.budget_remaining);
        let mut reasons = Vec::new();
        if latest.is_none() {
            reasons.push("never evaluated: nothing says it is healthy".to_string());
        }
        if let Some(min) = policy.min_budget {
            match budget {
                Some(b) if b < min => reasons.push(format!(
                    "budget left {} is below the {} required",
                    pct(b, 1),
                    pct(min, 1)
                )),
                None if latest.is_some() => {
                    reasons.push("no data: the budget left is unknown".into())
                }
                _ => {}
            }
        }
        if policy.no_open_incident {
            if let Some(sev) = incident {
                reasons.push(format!("a {sev} incident is open"));
            }
        }
        out.push(GateVerdict {
            slo: d.name.clone(),
            service: svc,
            status: latest.map_or(Status::NoData, |l| l.status),
            budget_remaining: budget,
            incident,
            pass: reasons.is_empty(),
            reasons,
        });
    }
    if out.is_empty() {
        return Err(GateError::NothingSelected(format!(
            " ({}{})",
            names.join(", "),
            filter.describe()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::cycle::tests::{app_with, at, incident, T};

    #[tokio::test]
    async fn healthy_low_budget_open_incident_and_unknown() {
        let app = app_with(incident).await;
        at(&app, T - 600).await;
        let strict = GatePolicy {
            min_budget: Some(0.25),
            no_open_incident: true,
        };
        let all = Filter::default();
        let v = gate(&app.store, &[], &all, strict).await.unwrap();
        assert!(v[0].pass, "{v:?}");
        at(&app, T + 10 * 60).await;
        let v = gate(&app.store, &["checkout".into()], &all, strict)
            .await
            .unwrap();
        assert!(!v[0].pass);
        assert_eq!(v[0].reasons, vec!["a page incident is open".to_string()]);
        let tight = GatePolicy {
            min_budget: Some(0.99),
            no_open_incident: false,
        };
        let webshop = Filter::new(None, Some("webshop"));
        let v = gate(&app.store, &[], &webshop, tight).await.unwrap();
        assert!(
            v[0].reasons[0].contains("is below the 99.0% required"),
            "{v:?}"
        );
        let err = gate(&app.store, &["checkuot".into()], &all, strict)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("did you mean checkout?"));
        let payments = Filter::new(None, Some("payments"));
        let err = gate(&app.store, &[], &payments, strict).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "no SLO of service `payments`; services: webshop"
        );
        // A team that owns nothing here is named, with the teams there are (none yet).
        let err = gate(&app.store, &[], &Filter::new(Some("team-a"), None), strict)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("no SLO of team `team-a`; no stored SLO has an owner"),
            "{err}"
        );
    }
}
