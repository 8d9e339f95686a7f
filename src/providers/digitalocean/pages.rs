//! DigitalOcean's pages: `page`/`per_page` (at most 200), and `meta.total`.

use super::{Action, Image, builder, types};
use crate::engine::execute::Response;
use crate::ops::pagination::{ListPages, Page};
use crate::{Error, Execute};

/// The largest `per_page` DigitalOcean serves.
pub const MAX_PAGE_SIZE: u64 = 200;

/// A page of items with DigitalOcean's `meta.total`; the page size is the
/// one asked for (the API does not repeat it).
fn page<T>(
    operation: &str,
    number: u64,
    items: Vec<T>,
    total: i64,
    request_id: Option<String>,
) -> Result<Page<T>, Error> {
    let total = u64::try_from(total).map_err(|_| Error::Pagination {
        operation: operation.to_owned(),
        page: number,
        reason: format!("the server sent meta.total={total}, which is not a count"),
        request_id: request_id.clone(),
    })?;
    Ok(Page::new(items, number, 0)
        .with_totals(Some(total), None)
        .with_request_id(request_id))
}

impl ListPages for builder::ImagesList<'_> {
    type Item = Image;
    const MAX_PAGE_SIZE: Option<u64> = Some(MAX_PAGE_SIZE);

    fn with_page(self, number: u64, size: u64) -> Self {
        self.page(number).per_page(size)
    }

    fn into_page(response: Response<types::ImagesListResponse>, number: u64) -> Result<Page<Image>, Error> {
        let rid = response.request_id().map(str::to_owned);
        let body = response.into_inner();
        page(Self::OPERATION, number, body.images, body.meta.total, rid)
    }

    fn item_key(image: &Image) -> Option<String> {
        Some(image.id.to_string())
    }
}

impl ListPages for builder::ImageActionsList<'_> {
    type Item = Action;
    const MAX_PAGE_SIZE: Option<u64> = Some(MAX_PAGE_SIZE);

    fn with_page(self, number: u64, size: u64) -> Self {
        self.page(number).per_page(size)
    }

    fn into_page(
        response: Response<types::ImageActionsListResponse>,
        number: u64,
    ) -> Result<Page<Action>, Error> {
        let rid = response.request_id().map(str::to_owned);
        let body = response.into_inner();
        page(Self::OPERATION, number, body.actions, body.meta.total, rid)
    }

    fn item_key(action: &Action) -> Option<String> {
        Some(action.id.to_string())
    }
}
