//! The provider table: each provider the build generates a client for, and
//! the spec patches (`build/spec_patches.rs`) its spec gets, in the order they
//! are applied. For the build, a new provider is one entry here, besides its
//! spec, `openapi/<name>.yaml`, and its Cargo feature of the same name.

use crate::spec_patches::Patch;

/// A provider whose client the build generates.
pub struct Provider {
    /// Cargo feature and module name.
    pub name: &'static str,
    pub patches: &'static [Patch],
}

pub const PROVIDERS: &[Provider] = &[CONTABO, DIGITALOCEAN, IONOS];

const CONTABO: Provider = Provider {
    name: "contabo",
    patches: &[
        Patch::OptionalHeader("x-request-id"),
        Patch::Tolerant {
            schema: "ImageResponse",
            required: &["imageId"],
        },
        Patch::Tolerant {
            schema: "ListImageResponseData",
            required: &["imageId"],
        },
        Patch::Tolerant {
            schema: "AssignedTagResponse",
            required: &[],
        },
        Patch::Tolerant {
            schema: "CreateCustomImageResponseData",
            required: &["imageId"],
        },
        Patch::Tolerant {
            schema: "UpdateCustomImageResponseData",
            required: &["imageId"],
        },
        Patch::Tolerant {
            schema: "CustomImagesStatsResponseData",
            required: &[],
        },
        Patch::Tolerant {
            schema: "ImageAuditResponseData",
            required: &["id"],
        },
        // An upload's staging store: the account's object storages and
        // their S3 keys. Only what the upload reads stays required.
        Patch::Tolerant {
            schema: "ObjectStorageResponse",
            required: &["objectStorageId"],
        },
        Patch::Tolerant {
            schema: "CredentialData",
            required: &["accessKey", "secretKey"],
        },
        Patch::Tolerant {
            schema: "ListObjectStorageResponse",
            required: &["data", "_pagination"],
        },
        Patch::Tolerant {
            schema: "ListCredentialResponse",
            required: &["data", "_pagination"],
        },
        // Pages: `data` and `_pagination` must be there; `_links` is unused.
        Patch::Tolerant {
            schema: "ListImageResponse",
            required: &["data", "_pagination"],
        },
        Patch::Tolerant {
            schema: "ImageAuditResponse",
            required: &["data", "_pagination"],
        },
        Patch::Tolerant {
            schema: "FindImageResponse",
            required: &["data"],
        },
        Patch::Tolerant {
            schema: "CreateCustomImageResponse",
            required: &["data"],
        },
        Patch::Tolerant {
            schema: "UpdateCustomImageResponse",
            required: &["data"],
        },
        Patch::Tolerant {
            schema: "CustomImagesStatsResponse",
            required: &["data"],
        },
        // The pagination layer checks these numbers itself.
        Patch::Tolerant {
            schema: "PaginationMeta",
            required: &[],
        },
        Patch::Tolerant {
            schema: "CreateCustomImageFailResponse",
            required: &[],
        },
    ],
};

const DIGITALOCEAN: Provider = Provider {
    name: "digitalocean",
    patches: &[
        Patch::DropDefaultResponses,
        Patch::UntypedErrors,
        // Before `OpenEnums` and `Tolerant`: the region, distribution and name
        // attributes become the properties' own schemas.
        Patch::InlineScalars,
        Patch::OpenEnums(&[
            "image",
            "action",
            "image_new_custom",
            "image_update",
            "image_action_transfer",
        ]),
        Patch::Tolerant {
            schema: "image",
            required: &["id"],
        },
        Patch::Tolerant {
            schema: "action",
            required: &["id"],
        },
        // Inside an action; `sizes` needs a scope the token may lack.
        Patch::Tolerant {
            schema: "region",
            required: &[],
        },
        // A number or a slug (`ubuntu-24-04-x64`); the spec says integer on
        // all but one operation.
        Patch::StringPathParameter("image_id"),
        Patch::AddParameters {
            operation: "imageActions_list",
            parameters: &["page", "per_page"],
        },
        // The API sends `{"action": {...}}`, as the specs' own examples show.
        Patch::Envelope {
            response: "get_image_action_response",
            property: "action",
        },
        Patch::Envelope {
            response: "post_image_action_response",
            property: "action",
        },
        Patch::ResponseRequires {
            response: "new_custom_image",
            required: &["image"],
        },
        // `links.pages` is one object with `first`, `prev`, `next`, `last`.
        Patch::AnyOfObjects {
            schema: "page_links",
            property: "pages",
        },
        // Older actions carry `region` as the region's slug, not the region
        // object: `"region": "nyc3", "region_slug": "nyc3"`, as in the 2014
        // action quoted in the overcast CLI's DigitalOcean provider
        // (andrewchilds/overcast, `modules/providers/digitalocean.v2.js`).
        // `region_slug` is the same slug in both forms.
        Patch::OrString {
            schema: "action",
            property: "region",
            string: "The region's slug, as older actions carry it (e.g. `nyc3`).",
        },
    ],
};

const IONOS: Provider = Provider {
    name: "ionos",
    patches: &[
        Patch::DropDefaultResponses,
        // Image properties of the current API that the 2023 spec cut lacks.
        // Types and descriptions from the official SDK, PyPI `ionoscloud`
        // 6.1.13, `ionoscloud/models/image_properties.py` (`ImageProperties`):
        // two booleans and a string without an enum, none read-only. The SDK
        // sends `exposeSerial` (default false) and `requireLegacyBios`
        // (default true) on every PUT and PATCH.
        Patch::AddProperties {
            schema: "ImageProperties",
            source: "ionoscloud 6.1.13 ImageProperties",
            properties: &[
                (
                    "exposeSerial",
                    r#"{"type": "boolean", "example": false, "description": "If set to `true` will expose the serial id of the disk attached to the server. If set to `false` will not expose the serial id. Some operating systems or software solutions require the serial id to be exposed to work properly. Exposing the serial can influence licensed software (e.g. Windows) behavior"}"#,
                ),
                (
                    "requireLegacyBios",
                    r#"{"type": "boolean", "example": true, "description": "Indicates if the image requires the legacy BIOS for compatibility or specific needs."}"#,
                ),
                (
                    "applicationType",
                    r#"{"type": "string", "example": "UNKNOWN", "description": "The type of application that is hosted on this resource. Only public images can have an Application type different than UNKNOWN."}"#,
                ),
            ],
        },
        // Before `InlineScalars`, which inlines `Type`.
        Patch::StringRefNotObject,
        Patch::InlineScalars,
        Patch::OpenEnums(&["Images", "Image", "RequestStatus"]),
        // At `depth=0` a collection's items are references: `id`, `type`,
        // `href`, no `properties`.
        Patch::Tolerant {
            schema: "Images",
            required: &[],
        },
        Patch::Tolerant {
            schema: "Image",
            required: &["id"],
        },
        // Also the PATCH body: a rename sends only `name`.
        Patch::Tolerant {
            schema: "ImageProperties",
            required: &[],
        },
        Patch::Tolerant {
            schema: "DatacenterElementMetadata",
            required: &[],
        },
        Patch::Tolerant {
            schema: "RequestStatus",
            required: &["id"],
        },
        Patch::Tolerant {
            schema: "RequestStatusMetadata",
            required: &[],
        },
        Patch::Tolerant {
            schema: "RequestTarget",
            required: &[],
        },
        Patch::Tolerant {
            schema: "ResourceReference",
            required: &["id"],
        },
    ],
};
