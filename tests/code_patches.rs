//! The build-time code patches (`build/code_patches.rs`) on small pieces of
//! code shaped like progenitor's: what they rewrite, and that they fail when
//! what they expect is not there.

#[path = "../build/code_patches.rs"]
#[allow(dead_code)]
mod code_patches;

use code_patches::CodePatch;
use proc_macro2::TokenStream;
use serde_json::json;

fn tokens(code: &str) -> TokenStream {
    code.parse().unwrap()
}

/// The same tokens (spacing between punctuation aside).
fn same(a: &TokenStream, b: &str) -> bool {
    let squeeze = |t: String| t.split_whitespace().collect::<String>();
    squeeze(a.to_string()) == squeeze(tokens(b).to_string())
}

const SEND: &str = r#"
    pub async fn send(self) -> Result<ResponseValue<()>, Error<()>> {
        let url = format!("{}/v1/compute/images/{}", client.baseurl, encode_path(&image_id.to_string()),);
        Ok(())
    }
"#;

#[test]
fn path_parameters_are_routed_through_the_segment_check() {
    let patched = CodePatch::PathSegments.apply(tokens(SEND), 1).unwrap();
    let want = SEND.replace(
        "encode_path(&image_id.to_string())",
        "crate::path::segment(\"image_id\", &image_id.to_string())\
         .map_err(::progenitor_client::Error::InvalidRequest)?",
    );
    assert!(same(&patched, &want), "{patched}");
    // The import of `encode_path` is no call and stays.
    let import = "use progenitor_client::{encode_path, ClientHooks};";
    let patched = CodePatch::PathSegments.apply(tokens(import), 0).unwrap();
    assert!(same(&patched, import));
}

#[test]
fn a_stale_path_patch_fails_the_build() {
    let err = CodePatch::PathSegments.apply(tokens(SEND), 2).unwrap_err();
    assert!(
        err.contains("PathSegments")
            && err.contains("2 path parameter(s)")
            && err.contains("1 `encode_path`"),
        "{err}"
    );
    let odd = SEND.replace("&image_id.to_string()", "&format!(\"{}\", image_id)");
    let err = CodePatch::PathSegments.apply(tokens(&odd), 1).unwrap_err();
    assert!(err.contains("of a shape the patch does not know"), "{err}");
}

const SETTER: &str = r#"
    impl<'a> RetrieveImage<'a> {
        pub fn x_request_id<V>(mut self, value: V) -> Self
        where
            V: std::convert::TryInto<types::RetrieveImageXRequestId>,
        {
            self.x_request_id = value
                .try_into()
                .map(Some)
                .map_err(|_| "conversion to `RetrieveImageXRequestId` for x_request_id failed".to_string());
            self
        }
        pub fn body<V>(mut self, value: V) -> Self
        where
            V: std::convert::TryInto<types::Body>,
            <V as std::convert::TryInto<types::Body>>::Error: std::fmt::Display,
        {
            self.body = value.try_into().map(From::from).map_err(|s| format!("conversion to `Body` for body failed: {}", s));
            self
        }
    }
"#;

#[test]
fn setters_keep_the_cause_of_a_failed_conversion() {
    let patched = CodePatch::SetterErrorCauses.apply(tokens(SETTER), 0).unwrap();
    let want = SETTER
        .replace(
            "V: std::convert::TryInto<types::RetrieveImageXRequestId>,\n",
            "V: std::convert::TryInto<types::RetrieveImageXRequestId>,\n\
             <V as std::convert::TryInto<types::RetrieveImageXRequestId>>::Error: std::fmt::Display,\n",
        )
        .replace(
            r#"|_| "conversion to `RetrieveImageXRequestId` for x_request_id failed".to_string()"#,
            r#"|e| format!("{}: {}", "conversion to `RetrieveImageXRequestId` for x_request_id failed", e)"#,
        );
    assert!(same(&patched, &want), "{patched}");
}

#[test]
fn a_stale_setter_patch_fails_the_build() {
    let err = CodePatch::SetterErrorCauses.apply(tokens(SEND), 0).unwrap_err();
    assert!(
        err.contains("SetterErrorCauses") && err.contains("found 0"),
        "{err}"
    );
    // A setter whose where clause has another shape is left alone: the build fails.
    let other = SETTER.replace(
        "V: std::convert::TryInto",
        "V: Into<String> + std::convert::TryInto",
    );
    let err = CodePatch::SetterErrorCauses.apply(tokens(&other), 0).unwrap_err();
    assert!(err.contains("found 1") && err.contains("patched 0"), "{err}");
}

#[test]
fn path_parameters_count_once_per_operation() {
    let doc = json!({"paths": {
        "/v1/images": {"get": {}, "post": {}},
        "/v1/images/{imageId}": {"get": {}, "patch": {}, "delete": {}, "parameters": []},
        "/v1/a/{x}/b/{y}": {"put": {}},
    }});
    assert_eq!(code_patches::path_parameters(&doc), 5);
    assert_eq!(code_patches::path_parameters(&json!({})), 0);
}
