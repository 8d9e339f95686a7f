//! What the build-time spec patches (`build/spec_patches.rs`, listed per
//! provider in `build/providers.rs`) are for, checked on the generated
//! DigitalOcean and IONOS types: bodies the real APIs send decode, request
//! bodies can be built with what a user has, and path parameters go on the
//! wire as given. And the patches themselves on small documents: what they
//! change, and that a stale one fails.

#[path = "../build/spec_patches.rs"]
#[allow(dead_code)]
mod spec_patches;

mod patches {
    use super::spec_patches::{Patch, apply};
    use serde_json::json;

    fn doc() -> serde_json::Value {
        json!({"components": {"schemas": {
            "Thing": {"type": "object", "properties": {
                "name": {"type": "string"},
                "place": {"$ref": "#/components/schemas/Place"}
            }},
            "Place": {"type": "object", "properties": {"slug": {"type": "string"}}}
        }}})
    }

    const ADD: Patch = Patch::AddProperties {
        schema: "Thing",
        source: "an SDK 1.2.3",
        properties: &[("exposeSerial", r#"{"type": "boolean", "description": "d"}"#)],
    };

    #[test]
    fn add_properties_adds_them_and_fails_once_upstream_has_them() {
        let mut doc = doc();
        apply(&mut doc, &ADD).unwrap();
        assert_eq!(
            doc.pointer("/components/schemas/Thing/properties/exposeSerial"),
            Some(&json!({"type": "boolean", "description": "d"}))
        );
        let err = apply(&mut doc, &ADD).unwrap_err();
        assert_eq!(
            err,
            "patch AddProperties(Thing, from an SDK 1.2.3): the spec has `exposeSerial` already; \
             upstream caught up, drop the patch"
        );
        let gone = Patch::AddProperties {
            schema: "Gone",
            source: "s",
            properties: &[],
        };
        assert!(apply(&mut doc, &gone).unwrap_err().contains("no such schema"));
        let bad = Patch::AddProperties {
            schema: "Thing",
            source: "s",
            properties: &[("x", "not json")],
        };
        assert!(apply(&mut doc, &bad).unwrap_err().contains("not JSON"));
    }

    const OR_STRING: Patch = Patch::OrString {
        schema: "Thing",
        property: "place",
        string: "The place's slug.",
    };

    #[test]
    fn or_string_lets_a_property_be_a_string_and_fails_when_stale() {
        let mut doc = doc();
        apply(&mut doc, &OR_STRING).unwrap();
        assert_eq!(
            doc.pointer("/components/schemas/Thing/properties/place"),
            Some(&json!({"oneOf": [
                {"$ref": "#/components/schemas/Place"},
                {"type": "string", "description": "The place's slug."}
            ]}))
        );
        let err = apply(&mut doc, &OR_STRING).unwrap_err();
        assert!(err.contains("a composition already"), "{err}");
        let string = Patch::OrString {
            schema: "Thing",
            property: "name",
            string: "s",
        };
        assert!(apply(&mut doc, &string).unwrap_err().contains("a string already"));
        let gone = Patch::OrString {
            schema: "Thing",
            property: "gone",
            string: "s",
        };
        assert!(apply(&mut doc, &gone).unwrap_err().contains("no such property"));
    }
}

mod digitalocean {
    use cloud_images::RetryPolicy;
    use cloud_images::digitalocean::{Client, types};
    use httpmock::prelude::*;
    use serde_json::json;

    #[test]
    fn an_image_list_with_new_values_nulls_and_missing_fields_decodes() {
        let page: types::ImagesListResponse = serde_json::from_value(json!({
            "images": [
                {
                    "id": 7555620, "name": "snap", "type": "kernel", "distribution": "NixOS",
                    "slug": null, "public": false, "regions": ["atl1", "nyc3"],
                    "created_at": "2020-05-04T22:23:02Z", "min_disk_size": null,
                    "size_gigabytes": null, "description": null, "tags": null,
                    "status": "archived", "error_message": null, "unknown": 1
                },
                {"id": 2, "regions": null}
            ],
            "links": {"pages": {"next": "https://api.digitalocean.com/v2/images?page=2", "last": "x"}},
            "meta": {"total": 2}
        }))
        .unwrap();
        let image = &page.images[0];
        assert_eq!(image.id, 7555620);
        assert_eq!(
            image.regions.as_deref(),
            Some(&["atl1".to_owned(), "nyc3".to_owned()][..])
        );
        assert_eq!(image.distribution.as_deref(), Some("NixOS"));
        assert_eq!(image.status.as_deref(), Some("archived"));
        assert_eq!(image.type_.as_deref(), Some("kernel"));
        assert_eq!(page.images[1].regions, None);
        let pages = page.links.unwrap().pages.unwrap();
        assert_eq!(
            pages.next.as_deref(),
            Some("https://api.digitalocean.com/v2/images?page=2")
        );
        assert_eq!(page.meta.total, 2);
    }

    #[test]
    fn an_image_without_id_is_an_error() {
        let err =
            serde_json::from_value::<types::ImagesGetResponse>(json!({"image": {"name": "x"}})).unwrap_err();
        assert!(err.to_string().contains("missing field `id`"), "{err}");
    }

    #[test]
    fn action_responses_are_wrapped_in_action() {
        let got: types::ImageActionsGetResponse = serde_json::from_value(json!({
            "action": {
                "id": 36805527, "status": "queued", "type": "transfer", "completed_at": null,
                "resource_id": 7938269, "resource_type": "image",
                "region": {"slug": "atl1", "name": "Atlanta 1"}, "region_slug": "atl1"
            }
        }))
        .unwrap();
        assert_eq!(got.action.id, 36805527);
        assert_eq!(got.action.status.as_deref(), Some("queued"));
        let Some(types::ActionRegion::Region(region)) = got.action.region else {
            panic!("{:?}", got.action.region)
        };
        assert_eq!(region.slug.as_deref(), Some("atl1"));
        let posted: types::ImageActionsPostResponse =
            serde_json::from_value(json!({"action": {"id": 1, "status": null}})).unwrap();
        assert_eq!(posted.action.status, None);
    }

    #[test]
    fn an_older_action_with_the_region_as_a_slug_decodes() {
        // As DigitalOcean sent actions in 2014 (and older actions still read).
        let got: types::ImageActionsGetResponse = serde_json::from_value(json!({
            "action": {
                "id": 36804636, "status": "completed", "type": "transfer",
                "started_at": "2014-11-14T16:29:21Z", "completed_at": "2014-11-14T16:30:06Z",
                "resource_id": 3164444, "resource_type": "image",
                "region": "nyc3", "region_slug": "nyc3"
            }
        }))
        .unwrap();
        assert_eq!(
            got.action.region,
            Some(types::ActionRegion::String("nyc3".into()))
        );
        assert_eq!(
            cloud_images::digitalocean::action_region(&got.action),
            Some("nyc3")
        );
        let list: types::ImageActionsListResponse = serde_json::from_value(json!({
            "actions": [{"id": 1, "region": "nyc3"}, {"id": 2, "region": {"slug": "fra1"}}],
            "links": {}, "meta": {"total": 2}
        }))
        .unwrap();
        let regions: Vec<_> = list
            .actions
            .iter()
            .map(cloud_images::digitalocean::action_region)
            .collect();
        assert_eq!(regions, [Some("nyc3"), Some("fra1")]);
    }

    #[test]
    fn request_bodies_take_plain_strings() {
        let create: types::ImageNewCustom = types::ImageNewCustom::builder()
            .name("debian-13")
            .url("https://example.com/debian-13.qcow2")
            .region("atl1")
            .distribution(Some("NixOS".to_owned()))
            .try_into()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&create).unwrap(),
            json!({"name": "debian-13", "url": "https://example.com/debian-13.qcow2", "region": "atl1",
                   "distribution": "NixOS"})
        );
        let rename: types::ImageUpdate = types::ImageUpdate::builder()
            .name(Some("new".to_owned()))
            .try_into()
            .unwrap();
        assert_eq!(serde_json::to_value(&rename).unwrap(), json!({"name": "new"}));
        let transfer = types::ImageActionsPostBody::from(types::ImageActionTransfer {
            region: "atl1".into(),
            type_: "transfer".into(),
        });
        assert_eq!(
            serde_json::to_value(&transfer).unwrap(),
            json!({"type": "transfer", "region": "atl1"})
        );
    }

    #[tokio::test]
    async fn image_id_is_a_number_or_a_slug() {
        let server = MockServer::start_async().await;
        let client = Client::builder()
            .base_url(server.base_url())
            .bearer_token("t")
            .retry_policy(RetryPolicy::disabled())
            .build()
            .unwrap();
        for id in ["12345", "ubuntu-24-04-x64"] {
            let mock = server
                .mock_async(|when, then| {
                    when.method(GET).path(format!("/v2/images/{id}"));
                    then.status(200).json_body(json!({"image": {"id": 12345}}));
                })
                .await;
            let got = client.images_get().image_id(id).send().await.unwrap();
            assert_eq!(got.image.id, 12345);
            mock.assert_async().await;
        }
    }
}

mod ionos {
    use cloud_images::ionos::types;
    use serde_json::json;

    #[test]
    fn a_depth_0_collection_and_new_values_decode() {
        let images: types::Images = serde_json::from_value(json!({
            "id": "images", "type": "collection", "href": "https://api.ionos.com/cloudapi/v6/images",
            "items": [
                {"id": "a", "type": "image", "href": "https://api.ionos.com/cloudapi/v6/images/a"},
                {
                    "id": "b", "type": "image",
                    "metadata": {"state": "PROVISIONING", "createdDate": null, "etag": null},
                    "properties": {
                        "name": "win", "licenceType": "WINDOWS2025", "imageType": "HDD",
                        "cloudInit": null, "imageAliases": null, "size": 30.0, "location": "de/fra"
                    }
                }
            ]
        }))
        .unwrap();
        let items = images.items.unwrap();
        assert_eq!(items[0].id, "a");
        assert!(items[0].properties.is_none());
        let properties = items[1].properties.as_ref().unwrap();
        assert_eq!(properties.licence_type.as_deref(), Some("WINDOWS2025"));
        assert_eq!(
            items[1].metadata.as_ref().unwrap().state.as_deref(),
            Some("PROVISIONING")
        );
        let err = serde_json::from_value::<types::Image>(json!({"properties": {}})).unwrap_err();
        assert!(err.to_string().contains("missing field `id`"), "{err}");
    }

    #[test]
    fn a_request_status_with_new_values_decodes() {
        let status: types::RequestStatus = serde_json::from_value(json!({
            "id": "r", "type": "request-status",
            "metadata": {
                "status": "PAUSED", "message": null,
                "targets": [{"target": {"id": "t", "type": "some-new-kind"}, "status": "DONE"}]
            }
        }))
        .unwrap();
        let metadata = status.metadata.unwrap();
        assert_eq!(metadata.status.as_deref(), Some("PAUSED"));
        let target = &metadata.targets.unwrap()[0];
        assert_eq!(
            target.target.as_ref().unwrap().type_.as_deref(),
            Some("some-new-kind")
        );
    }

    #[test]
    fn the_current_apis_image_properties_decode_and_build() {
        let image: types::Image = serde_json::from_value(json!({
            "id": "7df81087", "type": "image",
            "properties": {
                "name": "win", "licenceType": "WINDOWS2022", "exposeSerial": true,
                "requireLegacyBios": false, "applicationType": "MSSQL-2022-Standard"
            }
        }))
        .unwrap();
        let properties = image.properties.unwrap();
        assert_eq!(properties.expose_serial, Some(true));
        assert_eq!(properties.require_legacy_bios, Some(false));
        assert_eq!(
            properties.application_type.as_deref(),
            Some("MSSQL-2022-Standard")
        );
        let body: types::ImageProperties = types::ImageProperties::builder()
            .expose_serial(true)
            .require_legacy_bios(false)
            .application_type("UNKNOWN")
            .try_into()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"exposeSerial": true, "requireLegacyBios": false, "applicationType": "UNKNOWN"})
        );
    }

    #[test]
    fn a_rename_only_patch_body_builds() {
        let body: types::ImageProperties = types::ImageProperties::builder()
            .name(Some("renamed".to_owned()))
            .try_into()
            .unwrap();
        assert_eq!(serde_json::to_value(&body).unwrap(), json!({"name": "renamed"}));
    }
}
