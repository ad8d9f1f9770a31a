//! Which SLOs a reader shows (`--team`, `--service`, the widget's `team`): each team sees
//! its own. A filter that matches nothing is an error naming what there is, never an
//! empty answer that looks like a healthy fleet.

use std::collections::BTreeSet;

use super::apply::owner_of;
use super::ports::StoredDefinition;

/// The SLOs of one team (owner) and/or one service; the default selects every SLO.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only the SLOs this team owns.
    pub team: Option<String>,
    /// Only the SLOs of this service.
    pub service: Option<String>,
}

/// Why a filter selects nothing, with what the table holds instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("no SLO of team `{team}`; {}", listing("teams", .teams, "no stored SLO has an owner (metadata.labels.team or apply --owner)"))]
    NoTeam { team: String, teams: Vec<String> },
    #[error("no SLO of service `{service}`; {}", listing("services", .services, "the table holds no SLO yet"))]
    NoService {
        service: String,
        services: Vec<String>,
    },
    #[error("no SLO of team `{team}` is of service `{service}`; {}", listing("its services", .services, "it has none"))]
    NoServiceOfTeam {
        team: String,
        service: String,
        services: Vec<String>,
    },
    /// An SLO named together with a filter it does not pass.
    #[error("`{name}` is not an SLO{filter}")]
    NotSelected { name: String, filter: String },
}

/// `teams: a, b`, or `none` when the list is empty.
fn listing(what: &str, names: &[String], none: &str) -> String {
    if names.is_empty() {
        none.to_string()
    } else {
        format!("{what}: {}", names.join(", "))
    }
}

fn service_of(d: &StoredDefinition) -> Option<&str> {
    d.definition.as_ref().ok().map(|x| x.service.as_str())
}

impl Filter {
    /// A filter from optional flags.
    pub fn new(team: Option<&str>, service: Option<&str>) -> Filter {
        Filter {
            team: team.map(str::to_string),
            service: service.map(str::to_string),
        }
    }

    /// Whether it selects every SLO.
    pub fn is_all(&self) -> bool {
        self.team.is_none() && self.service.is_none()
    }

    /// Whether `d` passes; an unreadable definition passes only the filter of everything.
    pub fn matches(&self, d: &StoredDefinition) -> bool {
        self.team.as_deref().is_none_or(|t| owner_of(d) == Some(t))
            && self
                .service
                .as_deref()
                .is_none_or(|s| service_of(d) == Some(s))
    }

    /// Whether the SLO named `name` among `defs` passes (a name not stored does not).
    pub fn matches_name(&self, name: &str, defs: &[StoredDefinition]) -> bool {
        self.is_all() || defs.iter().any(|d| d.name == name && self.matches(d))
    }

    /// The definitions that pass; an error naming the teams or services there are when
    /// a filter selects none.
    pub fn select(
        &self,
        defs: Vec<StoredDefinition>,
    ) -> Result<Vec<StoredDefinition>, FilterError> {
        if self.is_all() {
            return Ok(defs);
        }
        self.check(&defs)?;
        Ok(defs.into_iter().filter(|d| self.matches(d)).collect())
    }

    /// Ok when the filter selects at least one of `defs` (or is the filter of everything).
    pub fn check(&self, defs: &[StoredDefinition]) -> Result<(), FilterError> {
        if self.is_all() || defs.iter().any(|d| self.matches(d)) {
            return Ok(());
        }
        let sorted = |it: &mut dyn Iterator<Item = &str>| -> Vec<String> {
            it.map(str::to_string)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        let teams = sorted(&mut defs.iter().filter_map(owner_of));
        match (&self.team, &self.service) {
            (Some(team), Some(service)) if teams.contains(team) => {
                Err(FilterError::NoServiceOfTeam {
                    team: team.clone(),
                    service: service.clone(),
                    services: sorted(
                        &mut defs
                            .iter()
                            .filter(|d| owner_of(d) == Some(team))
                            .filter_map(service_of),
                    ),
                })
            }
            (Some(team), _) => Err(FilterError::NoTeam {
                team: team.clone(),
                teams,
            }),
            (None, service) => Err(FilterError::NoService {
                service: service.clone().unwrap_or_default(),
                services: sorted(&mut defs.iter().filter_map(service_of)),
            }),
        }
    }

    /// Ok when every SLO of `names` passes (each must be stored to pass a filter).
    pub fn check_names(
        &self,
        names: &[String],
        defs: &[StoredDefinition],
    ) -> Result<(), FilterError> {
        match names.iter().find(|n| !self.matches_name(n, defs)) {
            Some(name) => Err(FilterError::NotSelected {
                name: name.clone(),
                filter: self.describe(),
            }),
            None => Ok(()),
        }
    }

    /// ` of team a`, ` of service shop`, ` of team a and service shop`, or nothing: for
    /// titles and notes.
    pub fn describe(&self) -> String {
        match (&self.team, &self.service) {
            (None, None) => String::new(),
            (Some(t), None) => format!(" of team {t}"),
            (None, Some(s)) => format!(" of service {s}"),
            (Some(t), Some(s)) => format!(" of team {t} and service {s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::load::{load, SourceFile};

    fn defs() -> Vec<StoredDefinition> {
        let yaml = crate::app::cycle::tests::checkout_yaml();
        let make = |name: &str, team: Option<&str>, service: &str| {
            let text = yaml
                .replace("name: checkout\n", &format!("name: {name}\n"))
                .replace("service: webshop", &format!("service: {service}"));
            let mut slo = load(&[SourceFile {
                name: "f.yaml".into(),
                text,
            }])
            .into_result()
            .unwrap()
            .remove(0);
            slo.owner = team.map(str::to_string);
            StoredDefinition {
                name: slo.name.clone(),
                version: 1,
                definition: Ok(slo),
            }
        };
        vec![
            make("a1", Some("team-a"), "shop"),
            make("a2", Some("team-a"), "search"),
            make("b1", Some("team-b"), "shop"),
            make("legacy", None, "shop"),
        ]
    }

    fn names(f: &Filter) -> Result<Vec<String>, FilterError> {
        Ok(f.select(defs())?.into_iter().map(|d| d.name).collect())
    }

    #[test]
    fn each_team_sees_its_own_and_an_unknown_one_is_told_what_there_is() {
        assert_eq!(names(&Filter::default()).unwrap().len(), 4);
        assert_eq!(
            names(&Filter::new(Some("team-a"), None)).unwrap(),
            ["a1", "a2"]
        );
        assert_eq!(
            names(&Filter::new(Some("team-a"), Some("shop"))).unwrap(),
            ["a1"]
        );
        assert_eq!(
            names(&Filter::new(None, Some("shop"))).unwrap(),
            ["a1", "b1", "legacy"]
        );
        let e = names(&Filter::new(Some("x"), None)).unwrap_err();
        assert_eq!(e.to_string(), "no SLO of team `x`; teams: team-a, team-b");
        let e = names(&Filter::new(None, Some("x"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no SLO of service `x`; services: search, shop"
        );
        let e = names(&Filter::new(Some("team-b"), Some("search"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no SLO of team `team-b` is of service `search`; its services: shop"
        );
        let e = Filter::new(Some("x"), None).select(Vec::new()).unwrap_err();
        assert!(e.to_string().contains("no stored SLO has an owner"), "{e}");
    }
}
