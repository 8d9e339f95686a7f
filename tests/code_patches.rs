//! The build-time code patches (`build/code_patches.rs`) on small pieces of
//! code shaped like progenitor's: what they rewrite, and that they fail when
//! what they expect is not there.

#[path = "../build/code_patches.rs"]
#[allow(dead_code)]
mod code_patches;
// What the code patches use, as `crate::tokens`.
#[path = "../build/tokens.rs"]
mod tokens;

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
        "crate::engine::codegen::segment(\"image_id\", &crate::engine::codegen::PathText::path_text(&image_id))\
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

const OPTIONAL_SETTER: &str = r#"
    impl UpdateCustomImageRequest {
        pub fn name<T>(mut self, value: T) -> Self
        where
            T: ::std::convert::TryInto<::std::option::Option<::std::string::String>>,
            T::Error: ::std::fmt::Display,
        {
            self.name = value
                .try_into()
                .map_err(|e| format!("error converting supplied value for name: {e}"));
            self
        }
        pub fn image_id<T>(mut self, value: T) -> Self
        where
            T: ::std::convert::TryInto<::std::string::String>,
            T::Error: ::std::fmt::Display,
        {
            self.image_id = value.try_into().map_err(|e| format!("{e}"));
            self
        }
    }
"#;

#[test]
fn optional_setters_take_a_value_some_none_or_text() {
    let patched = CodePatch::OptionalSetters
        .apply(tokens(OPTIONAL_SETTER), 0)
        .unwrap();
    let want = OPTIONAL_SETTER
        .replacen(
            "T: ::std::convert::TryInto<::std::option::Option<::std::string::String>>",
            "T: crate::engine::codegen::OptionalValue<::std::string::String>",
            1,
        )
        .replacen(
            "self.name = value\n                .try_into()",
            "self.name = crate::engine::codegen::OptionalValue::into_option(value)",
            1,
        );
    assert!(same(&patched, &want), "{patched}");
    // A required field's setter keeps its conversion.
    assert!(
        patched
            .to_string()
            .contains("self . image_id = value . try_into ()"),
        "a required field's setter keeps its conversion: {patched}"
    );
}

#[test]
fn a_stale_optional_setter_patch_fails_the_build() {
    let required_only = OPTIONAL_SETTER.split("pub fn image_id").nth(1).unwrap();
    let code = format!("impl X {{ pub fn image_id{required_only}");
    let err = CodePatch::OptionalSetters.apply(tokens(&code), 0).unwrap_err();
    assert!(
        err.contains("OptionalSetters") && err.contains("found 0"),
        "{err}"
    );
    let two_calls = OPTIONAL_SETTER.replace(
        "self\n        }\n        pub fn image_id",
        "let _ = value.try_into(); self\n        }\n        pub fn image_id",
    );
    let err = CodePatch::OptionalSetters
        .apply(tokens(&two_calls), 0)
        .unwrap_err();
    assert!(err.contains("2 `value.try_into()` calls"), "{err}");
}

const CLIENT: &str = r#"
    #[derive(Clone, Debug)]
    #[doc = "Contabo API\n\n150 lines of the provider's introduction"]
    pub struct Client { pub(crate) baseurl: String }
    impl Client {
        #[doc = "Get an image\n\n```ignore\nlet response = client.retrieve_image()\n    .image_id(image_id)\n    .send()\n    .await;\n```"]
        pub fn retrieve_image(&self) -> builder::RetrieveImage<'_> { builder::RetrieveImage::new(self) }
    }
    pub mod builder {
        impl<'a> RetrieveImage<'a> {
            #[doc = "Sends a `GET` request to `/v1/compute/images/{imageId}`"]
            pub async fn send(self) -> Result<(), ()> { Ok(()) }
        }
    }
"#;

#[test]
fn the_docs_show_execute_and_a_short_client_page() {
    let patched = CodePatch::DocsUseExecute.apply(tokens(CLIENT), 0).unwrap();
    let text = patched.to_string();
    assert!(text.contains(r"\n    .execute()\n    .await?;"), "{text}");
    assert!(!text.contains(".send()"), "{text}");
    assert!(!text.contains("150 lines"), "{text}");
    assert!(text.contains("crate::Execute::execute"), "{text}");
    let hidden = text.find("doc (hidden)").expect("send is hidden");
    assert!(hidden < text.find("async fn send").unwrap());
    assert!(
        text.contains("derive (Clone , Debug)") && text.contains("pub struct Client"),
        "{text}"
    );
}

#[test]
fn a_stale_docs_patch_fails_the_build() {
    let no_example = CLIENT.replace(".send()", ".go()");
    let err = CodePatch::DocsUseExecute
        .apply(tokens(&no_example), 0)
        .unwrap_err();
    assert!(err.contains("1 operation(s) with `send`, 0 example(s)"), "{err}");
    let no_client = CLIENT.replace("struct Client", "struct Other");
    let err = CodePatch::DocsUseExecute
        .apply(tokens(&no_client), 0)
        .unwrap_err();
    assert!(err.contains("0 `Client` doc(s)"), "{err}");
}

#[test]
fn an_optional_setter_spelled_otherwise_fails_the_build() {
    let odd = OPTIONAL_SETTER.replace(
        "T: ::std::convert::TryInto<::std::option::Option<::std::string::String>>,\n            T::Error",
        "T::Error: ::std::fmt::Display,\n            T: std::convert::TryInto<core::option::Option<::std::string::String>>,\n            T::Error",
    );
    assert_ne!(odd, OPTIONAL_SETTER);
    let err = CodePatch::OptionalSetters.apply(tokens(&odd), 0).unwrap_err();
    assert!(
        err.contains("found 1 setter bound(s)") && err.contains("patched 0"),
        "{err}"
    );
}

const OPERATIONS: &str = r#"
    pub async fn send(self) -> Result<ResponseValue<()>, Error<()>> {
        let url = format!("{}/v1/compute/images/{}", client.baseurl, crate::engine::codegen::segment("image_id", &crate::engine::codegen::PathText::path_text(&image_id)).map_err(::progenitor_client::Error::InvalidRequest)?,);
        let info = OperationInfo { operation_id: "retrieve_image" };
        Ok(())
    }
    pub async fn send(self) -> Result<ResponseValue<()>, Error<()>> {
        let url = format!("{}/v1/compute/images", client.baseurl,);
        let info = OperationInfo { operation_id: "retrieve_image_list" };
        Ok(())
    }
"#;

#[test]
fn request_urls_are_made_from_the_parsed_base_url() {
    let patched = CodePatch::UrlFromBase.apply(tokens(OPERATIONS), 1).unwrap();
    let want = OPERATIONS
        .replace(
            r#"format!("{}/v1/compute/images/{}", client.baseurl, "#,
            r#"client.inner.request_url(format_args!("/v1/compute/images/{}", "#,
        )
        .replace("InvalidRequest)?,);", "InvalidRequest)?,)).map_err(::progenitor_client::Error::InvalidRequest)?;")
        .replace(
            r#"format!("{}/v1/compute/images", client.baseurl,);"#,
            r#"client.inner.request_url(format_args!("/v1/compute/images",)).map_err(::progenitor_client::Error::InvalidRequest)?;"#,
        );
    assert!(same(&patched, &want), "{patched}");
}

#[test]
fn a_stale_url_patch_fails_the_build() {
    // An operation whose URL is made some other way.
    let odd = OPERATIONS.replace(
        r#"format!("{}/v1/compute/images", client.baseurl,)"#,
        r#"format!("{}{}", client.baseurl, "/v1/compute/images")"#,
    );
    let err = CodePatch::UrlFromBase.apply(tokens(&odd), 1).unwrap_err();
    assert!(
        err.contains("UrlFromBase") && err.contains("has 0 request URL(s) made from the base URL"),
        "{err}"
    );
    // One operation with two URLs cannot make up for another with none.
    let twice = odd.replace(
        r#"let info = OperationInfo { operation_id: "retrieve_image" };"#,
        r#"let again = format!("{}/v1/compute/images/x", client.baseurl,);
        let info = OperationInfo { operation_id: "retrieve_image" };"#,
    );
    let err = CodePatch::UrlFromBase.apply(tokens(&twice), 1).unwrap_err();
    assert!(err.contains("has 2 request URL(s)"), "{err}");
    // No operation at all.
    let err = CodePatch::UrlFromBase.apply(tokens("fn f() {}"), 0).unwrap_err();
    assert!(err.contains("0 operation(s)"), "{err}");
}

const DECODES: &str = r#"
    pub async fn send(self) -> Result<ResponseValue<types::Image>, Error<()>> {
        let response = result?;
        match response.status().as_u16() {
            200u16 => ResponseValue::from_response(response).await,
            204u16 => Ok(ResponseValue::empty(response)),
            _ => Err(Error::UnexpectedResponse(response)),
        }
    }
"#;

#[test]
fn bodies_are_decoded_from_what_the_transport_read() {
    let patched = CodePatch::DecodeReadBody.apply(tokens(DECODES), 0).unwrap();
    let want = DECODES.replace(
        "ResponseValue::from_response(response)",
        "crate::engine::codegen::from_response(response)",
    );
    assert!(same(&patched, &want), "{patched}");
}

#[test]
fn a_stale_decode_patch_fails_the_build() {
    // A call spelled another way would read a body that is no longer there.
    let odd = DECODES.replace(
        "ResponseValue::from_response(",
        "progenitor_client::ResponseValue::<types::Image>::from_response(",
    );
    let err = CodePatch::DecodeReadBody.apply(tokens(&odd), 0).unwrap_err();
    assert!(
        err.contains("DecodeReadBody") && err.contains("found 1 `from_response` call(s), patched 0"),
        "{err}"
    );
    let err = CodePatch::DecodeReadBody
        .apply(tokens("fn f() {}"), 0)
        .unwrap_err();
    assert!(err.contains("found 0"), "{err}");
}

const HEADERS: &str = r#"
    impl Client {
        pub fn api_version() -> &'static str {
            "1.0.0"
        }
    }
    pub async fn send(self) -> Result<ResponseValue<types::Image>, Error<()>> {
        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
        header_map.append(
            ::reqwest::header::HeaderName::from_static("api-version"),
            ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
        );
        if let Some(value) = x_request_id {
            header_map.append("x-request-id", value.to_string().try_into()?);
        }
        let info = OperationInfo { operation_id: "retrieve_image" };
        let request = client
            .client
            .get(url)
            .header(::reqwest::header::ACCEPT, ::reqwest::header::HeaderValue::from_static("application/json"))
            .headers(header_map)
            .build()?;
    }
"#;

/// `HEADERS` as `NoApiVersionHeader` leaves it.
fn without_api_version() -> String {
    HEADERS
        .replace(
            r#"header_map.append(
            ::reqwest::header::HeaderName::from_static("api-version"),
            ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
        );"#,
            "",
        )
        .replace(
            "let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize)",
            "#[allow(unused_mut)] let mut header_map = ::reqwest::header::HeaderMap::new()",
        )
}

#[test]
fn no_request_sends_an_api_version_header() {
    let patched = CodePatch::NoApiVersionHeader.apply(tokens(HEADERS), 0).unwrap();
    let want = without_api_version();
    assert!(!want.contains("api-version") && want.contains("x-request-id"));
    assert!(same(&patched, &want), "{patched}");
}

#[test]
fn a_stale_no_api_version_header_patch_fails_the_build() {
    // Appended another way: left, and named.
    let odd = HEADERS.replace("header_map.append(", "header_map.insert(");
    let err = CodePatch::NoApiVersionHeader.apply(tokens(&odd), 0).unwrap_err();
    assert!(
        err.contains("NoApiVersionHeader")
            && err.contains("1 operation(s), 0 `api-version` header(s) removed, 1 header map(s) made lazily, 1 `\"api-version\"` left"),
        "{err}"
    );
    // A header map made another way.
    let odd = HEADERS.replace("HeaderMap::with_capacity(2usize)", "HeaderMap::new()");
    let err = CodePatch::NoApiVersionHeader.apply(tokens(&odd), 0).unwrap_err();
    assert!(err.contains("0 header map(s) made lazily"), "{err}");
    // ... or bound another way, or not bound at all.
    for odd in [
        HEADERS.replace("let mut header_map =", "let mut headers ="),
        HEADERS.replace(
            "let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);",
            "let mut header_map = x; f(::reqwest::header::HeaderMap::with_capacity(2usize));",
        ),
    ] {
        let err = CodePatch::NoApiVersionHeader.apply(tokens(&odd), 0).unwrap_err();
        assert!(err.contains("0 header map(s) made lazily"), "{err}");
    }
    // Another operation without the header.
    let two = format!("{HEADERS} fn other() {{ let info = OperationInfo {{ operation_id: \"other\" }}; }}");
    let err = CodePatch::NoApiVersionHeader.apply(tokens(&two), 0).unwrap_err();
    assert!(
        err.contains("2 operation(s), 1 `api-version` header(s) removed"),
        "{err}"
    );
    let err = CodePatch::NoApiVersionHeader
        .apply(tokens("fn f() {}"), 0)
        .unwrap_err();
    assert!(err.contains("0 operation(s)"), "{err}");
}

#[test]
fn fixed_headers_are_made_at_compile_time() {
    let headers = without_api_version();
    let patched = CodePatch::ConstHeaders.apply(tokens(&headers), 0).unwrap();
    let want = headers.replace(
        r#"::reqwest::header::HeaderValue::from_static("application/json")"#,
        r#"const { ::reqwest::header::HeaderValue::from_static("application/json") }"#,
    );
    assert!(same(&patched, &want), "{patched}");
    // Names, too.
    let named = r#"fn f() { h.append(::reqwest::header::HeaderName::from_static("x-a"), v); }"#;
    let patched = CodePatch::ConstHeaders.apply(tokens(named), 0).unwrap();
    let want = named.replace(
        r#"::reqwest::header::HeaderName::from_static("x-a")"#,
        r#"const { ::reqwest::header::HeaderName::from_static("x-a") }"#,
    );
    assert!(same(&patched, &want), "{patched}");
}

#[test]
fn a_stale_const_headers_patch_fails_the_build() {
    let headers = without_api_version();
    // Spelled another way: left as it is, so the counts differ.
    let odd = headers.replace(
        r#"::reqwest::header::HeaderValue::from_static("application/json")"#,
        r#"::reqwest::header::HeaderValue::from_static("application/json")
            .clone(), reqwest::header::HeaderValue::from_static("text/plain")"#,
    );
    let err = CodePatch::ConstHeaders.apply(tokens(&odd), 0).unwrap_err();
    assert!(
        err.contains("ConstHeaders") && err.contains("found 2 `from_static` call(s), made 1"),
        "{err}"
    );
    // An argument that is no literal cannot go into a `const` block.
    let computed = headers.replace(r#"from_static("application/json")"#, "from_static(accept())");
    let err = CodePatch::ConstHeaders.apply(tokens(&computed), 0).unwrap_err();
    assert!(err.contains("`from_static(accept ())` has an argument"), "{err}");
    // Nor can the client's `api_version()`, left by a stale `NoApiVersionHeader`.
    let err = CodePatch::ConstHeaders.apply(tokens(HEADERS), 0).unwrap_err();
    assert!(
        err.contains("`from_static(super :: Client :: api_version ())` has an argument"),
        "{err}"
    );
    let err = CodePatch::ConstHeaders.apply(tokens("fn f() {}"), 0).unwrap_err();
    assert!(err.contains("found 0"), "{err}");
}

const PRE_EXEC: &str = r#"
    pub async fn send(self) -> Result<ResponseValue<types::Image>, Error<()>> {
        let info = OperationInfo { operation_id: "retrieve_image" };
        client.pre(&mut request, &info).await?;
        let result = client.exec(request, &info).await;
        client.post(&result, &info).await?;
        let response = result?;
        Ok(response)
    }
"#;

#[test]
fn pre_and_exec_back_to_back_pass_unchanged() {
    let checked = CodePatch::PreThenExec.apply(tokens(PRE_EXEC), 0).unwrap();
    assert!(same(&checked, PRE_EXEC), "{checked}");
}

#[test]
fn anything_between_pre_and_exec_fails_the_build() {
    // An await point between them would let another request take the
    // call record `pre` hands over.
    let between = PRE_EXEC.replace(
        "let result = client.exec(",
        "tokio::task::yield_now().await;\n        let result = client.exec(",
    );
    let err = CodePatch::PreThenExec.apply(tokens(&between), 0).unwrap_err();
    assert!(
        err.contains("PreThenExec")
            && err.contains("1 operation(s), 1 `client.pre(..)` call(s), 0 of them followed at once"),
        "{err}"
    );
    let no_pre = PRE_EXEC.replace("client.pre(&mut request, &info).await?;", "");
    let err = CodePatch::PreThenExec.apply(tokens(&no_pre), 0).unwrap_err();
    assert!(err.contains("0 `client.pre(..)` call(s)"), "{err}");
    let err = CodePatch::PreThenExec.apply(tokens("fn f() {}"), 0).unwrap_err();
    assert!(err.contains("0 operation(s)"), "{err}");
}
