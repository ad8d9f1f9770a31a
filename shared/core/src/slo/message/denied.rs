//! The ticket a team topic's message becomes when SNS denies the stack publishing to it
//! (IAM, or the topic's KMS key): sent to the stack topic, naming the SLO and the topic, with
//! the message it carried, so a wrong target is never a silent loss.

use serde_json::json;

use super::compose::cap;
use super::subject::fit_subject;
use super::text::{one_line, quoted};
use super::Notification;
use crate::slo::model::Severity;

/// The ticket for the stack topic that says `n` could not be published to `topic` (SNS said
/// `reason`), carrying `n` whole.
pub fn denied_ticket(n: &Notification, topic: &str, reason: &str) -> Notification {
    let name = topic.rsplit(':').next().unwrap_or(topic);
    let subject = fit_subject(
        "TICKET",
        &n.service,
        &n.slo,
        &format!("not delivered to topic {name} (denied)"),
    );
    let team = n
        .team
        .as_deref()
        .map_or(String::new(), |t| format!(", team {}", one_line(t)));
    let body = format!(
        "TICKET: a {severity} message of SLO {slo} could not be published to the topic its \
         AlertNotificationTarget names: SNS denied the stack.\n\n\
         SLO:    {slo} (service {service}{team})\n\
         Topic:  {topic}\n\
         Why:    {why}\n\n\
         The stack's roles may publish only to the topics its AllowedTopicPrefix parameter \
         allows (SLO_ALLOWED_TOPICS); a topic encrypted with a customer-managed KMS key must \
         also let them use the key (kms:GenerateDataKey and kms:Decrypt). Fix the access, or \
         the SLO's notification target. This ticket is the only copy of the message:\n\n\
         ----- the {severity} message -----\n\
         Subject: {subject}\n\n{body}",
        severity = n.severity.as_str(),
        slo = one_line(&n.slo),
        service = one_line(&n.service),
        topic = one_line(topic),
        why = quoted(reason),
        subject = quoted(&n.subject),
        body = n.body,
    );
    Notification {
        id: format!("{}#denied", n.id),
        slo: n.slo.clone(),
        service: n.service.clone(),
        team: n.team.clone(),
        severity: Severity::Ticket,
        status: n.status,
        subject: subject.clone(),
        body: cap(body),
        document: json!({
            "version": 1,
            "kind": "delivery-denied",
            "slo": n.slo,
            "service": n.service,
            "team": n.team,
            "topic": topic,
            "reason": reason,
            "subject": subject,
            "notification": n.document,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::status::Status;

    #[test]
    fn a_denied_message_becomes_a_ticket_naming_the_slo_and_the_topic_and_carrying_it() {
        let page = Notification {
            id: "2026-01-01T00:00:00Z#opened".into(),
            slo: "checkout".into(),
            service: "webshop".into(),
            team: Some("team-a".into()),
            severity: Severity::Page,
            status: Status::Breaching,
            subject: "[PAGE] webshop checkout: burning".into(),
            body: "the page's body\n".into(),
            document: json!({"event": "opened"}),
        };
        let topic = "arn:aws:sns:eu-west-1:123456789012:team-a-pages";
        let t = denied_ticket(&page, topic, "AuthorizationError: not\nauthorized");
        assert_eq!(t.severity, Severity::Ticket);
        assert!(
            t.subject.starts_with("[TICKET] webshop checkout:"),
            "{}",
            t.subject
        );
        assert!(t.subject.contains("team-a-pages"), "{}", t.subject);
        assert!(t.body.contains(topic) && t.body.contains("SLO:    checkout"));
        assert!(t.body.contains("kms:GenerateDataKey"));
        assert!(
            t.body.contains("\"AuthorizationError: not\\nauthorized\""),
            "{}",
            t.body
        );
        assert!(t.body.ends_with("the page's body\n"), "carries the message");
        assert_eq!(t.document["notification"]["event"], "opened");
        assert_ne!(t.id, page.id);
    }
}
