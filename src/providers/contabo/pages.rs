//! Contabo's pages: `page`/`size`, and `_pagination` with counts sent as
//! JSON numbers.

use super::{Image, ImageAudit, builder, types};
use crate::engine::execute::Response;
use crate::ops::pagination::{ListPages, Page};
use crate::{Error, Execute};

/// Converts a count the server sent as a JSON number (Contabo sends `number`)
/// into a whole number, refusing negative, fractional and non-finite values.
fn count(
    operation: &str,
    page: u64,
    field: &str,
    value: f64,
    request_id: Option<&str>,
) -> Result<u64, Error> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9.0e15 {
        Ok(value as u64)
    } else {
        Err(Error::Pagination {
            operation: operation.to_owned(),
            page,
            reason: format!("the server sent {field}={value}, which is not a count"),
            request_id: request_id.map(str::to_owned),
        })
    }
}

/// Turns Contabo's `data` + `_pagination` into a [`Page`]. Contabo sends its
/// counts as JSON numbers; a negative, fractional or absurd one is an error.
fn page<T>(
    operation: &str,
    requested: u64,
    data: Vec<T>,
    meta: &types::PaginationMeta,
    request_id: Option<String>,
) -> Result<Page<T>, Error> {
    let rid = request_id.as_deref();
    let count = |field, value: Option<f64>| {
        value
            .map(|v| count(operation, requested, field, v, rid))
            .transpose()
    };
    let number = count("page", meta.page)?.unwrap_or(requested);
    let size = count("size", meta.size)?.unwrap_or(0);
    Ok(Page::new(data, number, size)
        .with_totals(
            count("totalElements", meta.total_elements)?,
            count("totalPages", meta.total_pages)?,
        )
        .with_request_id(request_id))
}

impl ListPages for builder::RetrieveImageList<'_> {
    type Item = Image;

    fn with_page(self, number: u64, size: u64) -> Self {
        self.page(number).size(size)
    }

    fn into_page(response: Response<types::ListImageResponse>, number: u64) -> Result<Page<Image>, Error> {
        let rid = response.request_id().map(str::to_owned);
        let body = response.into_inner();
        page(Self::OPERATION, number, body.data, &body.pagination, rid)
    }

    fn item_key(image: &Image) -> Option<String> {
        Some(image.image_id.clone())
    }
}

impl ListPages for builder::RetrieveImageAuditsList<'_> {
    type Item = ImageAudit;

    fn with_page(self, number: u64, size: u64) -> Self {
        self.page(number).size(size)
    }

    fn into_page(
        response: Response<types::ImageAuditResponse>,
        number: u64,
    ) -> Result<Page<ImageAudit>, Error> {
        let rid = response.request_id().map(str::to_owned);
        let body = response.into_inner();
        page(Self::OPERATION, number, body.data, &body.pagination, rid)
    }

    fn item_key(audit: &ImageAudit) -> Option<String> {
        Some(audit.id.to_string())
    }
}
