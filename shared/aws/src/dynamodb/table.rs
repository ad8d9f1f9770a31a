//! The table itself: created by `sloguard init` when missing, with the key schema and TTL
//! the SAM template declares (a unit test compares them).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};

use sloguard_core::app::ports::StoreError;

use super::{DynamoStore, PK, SK, TTL_ATTRIBUTE};

impl DynamoStore {
    /// Create the table (and its TTL) when missing; true when it was created.
    pub async fn create_table_if_missing(&self) -> Result<bool, StoreError> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(_) => return Ok(false),
            Err(e) => match self.err(e) {
                StoreError::TableMissing(_) => {}
                other => return Err(other),
            },
        }
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("name and type set")
        };
        let key_el = |name: &str, kt| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kt)
                .build()
                .expect("set")
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(PK))
            .attribute_definitions(attr(SK))
            .key_schema(key_el(PK, KeyType::Hash))
            .key_schema(key_el(SK, KeyType::Range))
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(self.err(e)),
        }
        // A new table is briefly CREATING; wait for ACTIVE before turning on TTL.
        for _ in 0..60 {
            let d = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| self.err(e))?;
            if d.table()
                .and_then(|t| t.table_status())
                .map(|s| s.as_str() == "ACTIVE")
                .unwrap_or(false)
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .expect("set"),
            )
            .send()
            .await
            .map_err(|e| self.err(e))?;
        Ok(true)
    }
}
