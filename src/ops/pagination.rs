//! Streams over every page of a list operation, for any provider.
//!
//! A provider module implements [`ListPages`] for each of its list builders:
//! ask for page `n` of size `s` (1-based page numbers; an offset/limit API maps
//! `n` to an offset), turn the answer into a [`Page`], name an item's key.
//! [`Paginate`] comes with it. (Anything else that can fetch numbered pages
//! implements [`PageSource`] and uses [`pages`] and [`items`].) The streams here
//! do the rest:
//!
//! - the first page is fetched alone; once it tells the total, the later pages
//!   are prefetched concurrently (at most [`PaginationOptions::concurrency`] at
//!   a time) and come out in page order;
//! - stopping early (dropping the stream, `take(n)`, a
//!   [`limit`](PaginationOptions::limit)) fetches no page beyond what was
//!   consumed plus the prefetch window, and every page is fetched once;
//! - each distinct item comes out once: an item listed again (see below) is
//!   dropped and logged (a `tracing` warning naming the page and the keys);
//! - an answer that means items may be lost ends the stream with
//!   [`Error::Pagination`]: a negative, fractional or absurd page count, a page
//!   count that disagrees with the element count, a page other than the one
//!   asked for (by its number, or a full page of nothing but items listed
//!   before), an empty page before the last, fewer items than the first page
//!   announced, totals that change during the walk;
//! - the error always comes after what arrived before it: the items of the
//!   earlier pages, and the new items of the page that showed the problem;
//!   an error fetching page `k` comes after the items of the pages before `k`.
//!
//! **Items listed twice.** Real servers list an item twice: on one page (the
//! same image in two rows) or on two (a list that shifted under the walk).
//! The walk remembers the keys ([`ListPages::item_key`]) of the items of the
//! latest pages, not of the whole list, so that its memory stays flat however
//! long the list: an item whose key was on any of the
//! [`DUPLICATE_WINDOW_PAGES`] pages before its own page, or earlier on the
//! same page, is always caught and dropped. An item repeated further apart
//! may go unnoticed (the walk remembers at most twice the window) and then
//! comes out twice. The announced item count is checked against what the
//! server sent, repeats included: a server that counts a repeated row as an
//! item (the usual case) adds up. A repeat that took the place of an item the
//! server never sent (a list in an unstable order, walked by offset) looks
//! the same from here; the warning is the sign of it. A repeat does not end
//! the walk, but a full page of nothing but repeats does: that is a page
//! served twice or a server that ignores the page number, and the items of
//! the page asked for are missing. A list that changes during the walk shows
//! in its totals, which every page must announce alike.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};

use crate::{Error, Execute, Response};

/// One page of a list.
///
/// ```
/// use cloud_images::Page;
///
/// let page = Page::new(vec!["a", "b"], 1, 2).with_totals(Some(5), Some(3));
/// assert_eq!(page.items, ["a", "b"]);
/// assert_eq!(page.total_pages, Some(3));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items, in server order, without those listed before (see
    /// [Items listed twice](crate::pagination#items-listed-twice)).
    pub items: Vec<T>,
    /// The page number, from 1.
    pub page: u64,
    /// The page size the server used.
    pub size: u64,
    /// All elements of the list, when the server says.
    pub total_elements: Option<u64>,
    /// All pages of the list, when the server says.
    pub total_pages: Option<u64>,
    /// The `x-request-id` of the request that fetched this page.
    pub request_id: Option<String>,
}

impl<T> Page<T> {
    /// A page with its items, number and size.
    pub fn new(items: Vec<T>, page: u64, size: u64) -> Self {
        Self {
            items,
            page,
            size,
            total_elements: None,
            total_pages: None,
            request_id: None,
        }
    }

    /// Sets the totals the server announced.
    pub fn with_totals(mut self, total_elements: Option<u64>, total_pages: Option<u64>) -> Self {
        self.total_elements = total_elements;
        self.total_pages = total_pages;
        self
    }

    /// Sets the request id that fetched the page.
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }
}

/// How a list is walked.
///
/// ```
/// use cloud_images::PaginationOptions;
///
/// let sequential = PaginationOptions::default().with_concurrency(1).with_page_size(50).with_limit(120);
/// assert_eq!(sequential.concurrency(), 1);
/// assert_eq!(PaginationOptions::default().concurrency(), 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaginationOptions {
    page_size: u64,
    concurrency: usize,
    limit: Option<u64>,
    max_pages: u64,
}

impl Default for PaginationOptions {
    /// 100 items a page, 8 pages in flight, no limit, at most 100 000 pages.
    fn default() -> Self {
        Self {
            page_size: 100,
            concurrency: 8,
            limit: None,
            max_pages: 100_000,
        }
    }
}

impl PaginationOptions {
    /// Items to ask for per page (at least 1).
    pub fn with_page_size(mut self, size: u64) -> Self {
        self.page_size = size.max(1);
        self
    }
    /// Pages fetched at once after the first (at least 1; 1 is strictly sequential).
    pub fn with_concurrency(mut self, pages: usize) -> Self {
        self.concurrency = pages.max(1);
        self
    }
    /// Stop after this many items; no page past them is fetched.
    pub fn with_limit(mut self, items: u64) -> Self {
        self.limit = Some(items);
        self
    }
    /// A list with more pages than this is refused as absurd.
    pub fn with_max_pages(mut self, pages: u64) -> Self {
        self.max_pages = pages.max(1);
        self
    }
    /// Items asked for per page.
    pub fn page_size(&self) -> u64 {
        self.page_size
    }
    /// Pages fetched at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }
    /// The item limit.
    pub fn limit(&self) -> Option<u64> {
        self.limit
    }
    /// The most pages a list may have.
    pub fn max_pages(&self) -> u64 {
        self.max_pages
    }
}

/// A list operation that can fetch page `n`: what a provider adapter implements.
pub trait PageSource: Send + Sync {
    /// The items of the list.
    type Item: Send;

    /// The operation's name, for errors.
    fn operation(&self) -> &'static str;

    /// Fetches page `page` (from 1) of `size` items.
    fn fetch(&self, page: u64, size: u64) -> impl Future<Output = Result<Page<Self::Item>, Error>> + Send;

    /// The item's identity, to notice an item served twice (within
    /// [`DUPLICATE_WINDOW_PAGES`] pages); `None` skips the check.
    fn key(item: &Self::Item) -> Option<String>;

    /// The largest page the API serves, when it has a limit: a larger page
    /// size is refused before anything is sent.
    fn max_page_size(&self) -> Option<u64> {
        None
    }
}

/// A list operation's request builder that can ask for any page: what a
/// provider module implements for each of its list builders. [`Paginate`]
/// comes with it.
///
/// ```
/// use cloud_images::pagination::ListPages;
/// use cloud_images::{Error, Execute, Page, Response};
///
/// /// A list builder of some API: `GET /things?page=&per_page=`.
/// #[derive(Clone)]
/// struct ListThings {
///     page: u64,
///     per_page: u64,
/// }
///
/// impl Execute for ListThings {
///     type Output = Vec<String>;
///     const OPERATION: &'static str = "list_things";
///     async fn execute_with(self, _: cloud_images::CallOptions) -> Result<Response<Vec<String>>, Error> {
///         unimplemented!("sends the request")
///     }
/// }
///
/// impl ListPages for ListThings {
///     type Item = String;
///     const MAX_PAGE_SIZE: Option<u64> = Some(200);
///     fn with_page(self, number: u64, size: u64) -> Self {
///         Self { page: number, per_page: size }
///     }
///     fn into_page(response: Response<Vec<String>>, number: u64) -> Result<Page<String>, Error> {
///         Ok(Page::new(response.into_inner(), number, 0))
///     }
///     fn item_key(item: &String) -> Option<String> {
///         Some(item.clone())
///     }
/// }
/// ```
pub trait ListPages: Execute + Clone + Sync {
    /// The items of the list.
    type Item: Send;

    /// The largest page the API serves, when it has a limit.
    const MAX_PAGE_SIZE: Option<u64> = None;

    /// This request, asking for page `number` (from 1) of `size` items.
    fn with_page(self, number: u64, size: u64) -> Self;

    /// The answer to page `number`, as a [`Page`] (with the totals the
    /// server announced and the response's request id).
    fn into_page(response: Response<Self::Output>, number: u64) -> Result<Page<Self::Item>, Error>;

    /// The item's identity, to notice an item served twice (within
    /// [`DUPLICATE_WINDOW_PAGES`] pages); `None` skips the check.
    fn item_key(item: &Self::Item) -> Option<String>;
}

/// A [`ListPages`] builder as a [`PageSource`].
struct Listing<L>(L);

impl<L: ListPages> PageSource for Listing<L> {
    type Item = L::Item;

    fn operation(&self) -> &'static str {
        L::OPERATION
    }

    fn fetch(&self, page: u64, size: u64) -> impl Future<Output = Result<Page<L::Item>, Error>> + Send {
        let request = self.0.clone().with_page(page, size);
        async move { L::into_page(request.execute().await?, page) }
    }

    fn key(item: &L::Item) -> Option<String> {
        L::item_key(item)
    }

    fn max_page_size(&self) -> Option<u64> {
        L::MAX_PAGE_SIZE
    }
}

impl<'a, L: ListPages + 'a> Paginate<'a> for L
where
    L::Item: 'a,
{
    type Item = L::Item;

    fn pages_with(self, options: PaginationOptions) -> BoxStream<'a, Result<Page<L::Item>, Error>> {
        pages(Listing(self), options)
    }

    fn stream_with(self, options: PaginationOptions) -> BoxStream<'a, Result<L::Item, Error>> {
        items(Listing(self), options)
    }
}

/// A list request made from a value the stream owns (a client and the
/// request's filters), so that the stream borrows nothing (`'static`), as
/// the neutral images API returns its lists.
pub(crate) trait OwnedList: Send + Sync + 'static {
    /// The items of the list.
    type Item: Send + 'static;
    /// The list's request builder, borrowing `self`.
    type Request<'a>: ListPages<Item = Self::Item> + 'a;

    /// The request for the whole list (the page is set per page).
    fn request(&self) -> Self::Request<'_>;
}

/// An [`OwnedList`] as a [`PageSource`].
struct Owned<O>(O);

impl<O: OwnedList> PageSource for Owned<O> {
    type Item = O::Item;

    fn operation(&self) -> &'static str {
        <O::Request<'static> as Execute>::OPERATION
    }

    fn fetch(&self, page: u64, size: u64) -> impl Future<Output = Result<Page<O::Item>, Error>> + Send {
        let request = self.0.request().with_page(page, size);
        async move { into_page_of(request, page).await }
    }

    fn key(item: &O::Item) -> Option<String> {
        <O::Request<'static> as ListPages>::item_key(item)
    }

    fn max_page_size(&self) -> Option<u64> {
        <O::Request<'static> as ListPages>::MAX_PAGE_SIZE
    }
}

/// Sends `request` (for page `page`) and reads the answer as a page.
async fn into_page_of<L: ListPages>(request: L, page: u64) -> Result<Page<L::Item>, Error> {
    L::into_page(request.execute().await?, page)
}

/// Every item of an [`OwnedList`], as a stream that owns the list.
pub(crate) fn owned_items<O: OwnedList>(
    list: O,
    options: PaginationOptions,
) -> BoxStream<'static, Result<O::Item, Error>> {
    items(Owned(list), options)
}

/// All pages, in order; an item listed again is dropped from its page (see
/// the [module documentation](self)).
pub fn pages<'a, S: PageSource + 'a>(
    source: S,
    options: PaginationOptions,
) -> BoxStream<'a, Result<Page<S::Item>, Error>> {
    let walk = Walk {
        source: Arc::new(source),
        options,
        phase: Phase::First,
        seen: Seen::default(),
        yielded: 0,
        received: 0,
        expected_total: None,
        totals: None,
    };
    stream::unfold(walk, |mut walk| async move {
        walk.next().await.map(|page| (page, walk))
    })
    .boxed()
}

/// All items of all pages, in order, each once.
pub fn items<'a, S: PageSource + 'a>(
    source: S,
    options: PaginationOptions,
) -> BoxStream<'a, Result<S::Item, Error>> {
    let limit = options.limit.unwrap_or(u64::MAX);
    pages(source, options)
        .flat_map(|page| match page {
            Ok(page) => stream::iter(page.items).map(Ok).left_stream(),
            Err(e) => stream::once(std::future::ready(Err(e))).right_stream(),
        })
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .boxed()
}

/// How many pages back the walk always notices an item listed again (see
/// the [module documentation](self)).
pub const DUPLICATE_WINDOW_PAGES: u64 = 16;

/// The keys of the items of the latest pages, with their page: those of at
/// least the [`DUPLICATE_WINDOW_PAGES`] pages before the current one, at most
/// twice as many.
#[derive(Debug, Default)]
struct Seen {
    keys: HashMap<String, u64>,
    /// The oldest page whose keys may still be held.
    oldest: u64,
}

impl Seen {
    /// Records `key` of an item on `page` (pages come in increasing order);
    /// the page it already was on, if that is within the window.
    fn record(&mut self, key: String, page: u64) -> Result<(), (String, u64)> {
        if page >= self.oldest.saturating_add(2 * DUPLICATE_WINDOW_PAGES) {
            // Forget the pages before the window: amortized, once every
            // `DUPLICATE_WINDOW_PAGES` pages.
            let keep = page - DUPLICATE_WINDOW_PAGES;
            self.keys.retain(|_, p| *p >= keep);
            self.oldest = keep;
        }
        match self.keys.entry(key) {
            Entry::Occupied(first) => Err((first.key().clone(), *first.get())),
            Entry::Vacant(slot) => {
                slot.insert(page);
                Ok(())
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Prefetched pages with the numbers they were asked for.
type Prefetched<'a, T> = BoxStream<'a, (u64, Result<Page<T>, Error>)>;

/// The pages of a list that announced its size: the last one asked for, and
/// the last one there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    last: u64,
    total: u64,
}

enum Phase<'a, T> {
    First,
    /// Later pages, prefetched.
    Prefetch(Prefetched<'a, T>, Span),
    /// No total known: one page after the other until a short page.
    Sequential(u64),
    /// The items of the page that showed a problem are out; the error is next.
    Failed(Error),
    Done,
}

struct Walk<'a, S: PageSource> {
    source: Arc<S>,
    options: PaginationOptions,
    phase: Phase<'a, S::Item>,
    /// Item keys of the latest pages, with their page.
    seen: Seen,
    /// Distinct items yielded so far.
    yielded: u64,
    /// Items the server sent so far, repeats included.
    received: u64,
    /// Items the first page announced.
    expected_total: Option<u64>,
    /// The totals (elements, pages) the first page announced; every later
    /// page must announce the same.
    totals: Option<(Option<u64>, Option<u64>)>,
}

impl<'a, S: PageSource + 'a> Walk<'a, S> {
    async fn next(&mut self) -> Option<Result<Page<S::Item>, Error>> {
        let result = loop {
            break match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Done => return None,
                Phase::Failed(e) => Err(e),
                Phase::First => self.first().await,
                Phase::Prefetch(mut rest, span) => match rest.next().await {
                    Some((n, Ok(page))) => {
                        self.phase = Phase::Prefetch(rest, span);
                        let (page, failure) = self.examine(page, n, Some(span.total), None);
                        self.emit(page, failure)
                    }
                    Some((_, Err(e))) => Err(e),
                    None => {
                        let size = self.options.page_size;
                        if let Some(more) = more_pages(self.options.limit, self.yielded, size, span) {
                            let span = Span {
                                last: *more.end(),
                                ..span
                            };
                            self.phase = Phase::Prefetch(self.prefetch(more, size), span);
                            continue;
                        }
                        return self.finish(span).map(Err);
                    }
                },
                Phase::Sequential(n) => self.sequential(n).await,
            };
        };
        if result.is_err() {
            self.phase = Phase::Done;
        }
        Some(result)
    }

    /// Page `n` of a list without totals: the next one follows unless this
    /// one is short (or the limit is reached).
    async fn sequential(&mut self, n: u64) -> Result<Page<S::Item>, Error> {
        let page = self.source.fetch(n, self.options.page_size).await?;
        let size = if page.size > 0 {
            page.size
        } else {
            self.options.page_size
        };
        let full = page.items.len() as u64 >= size;
        let rid = page.request_id.clone();
        let (page, mut failure) = self.examine(page, n, None, None);
        let below_limit = self.options.limit.is_none_or(|l| self.yielded < l);
        if failure.is_none() && full && below_limit {
            if n >= self.options.max_pages {
                let reason = format!(
                    "more than {} pages (the limit set by PaginationOptions::max_pages)",
                    self.options.max_pages
                );
                failure = Some(self.error(n, rid, reason));
            } else {
                self.phase = Phase::Sequential(n + 1);
            }
        }
        self.emit(page, failure)
    }

    async fn first(&mut self) -> Result<Page<S::Item>, Error> {
        let size = self.options.page_size;
        if let Some(max) = self.source.max_page_size()
            && size > max
        {
            return Err(Error::InvalidRequest(format!(
                "{}: page size {size} is more than the API allows (1 to {max}; PaginationOptions::page_size)",
                self.source.operation()
            )));
        }
        let page = self.source.fetch(1, size).await?;
        // The server may cap the page size: trust what it reports, and ask
        // for the later pages with it so that page numbers line up.
        let size = if page.size > 0 { page.size } else { size };
        self.options.page_size = size;
        self.totals = Some((page.total_elements, page.total_pages));
        self.expected_total = page.total_elements;
        let n = page.items.len() as u64;
        let problem = first_page_problem(
            n,
            size,
            page.total_elements,
            page.total_pages,
            self.options.max_pages,
        );
        // An API that only tells the number of items tells the pages too.
        let total_pages = page
            .total_pages
            .or_else(|| page.total_elements.map(|e| e.div_ceil(size)));
        if problem.is_none() {
            match total_pages {
                Some(total) => {
                    // Pages needed to reach the limit.
                    let wanted = self.options.limit.map(|l| l.div_ceil(size).max(1));
                    let last = wanted.map_or(total, |w| w.min(total));
                    let span = Span { last, total };
                    self.phase = Phase::Prefetch(self.prefetch(2..=last, size), span);
                }
                None => {
                    let within_limit = self.options.limit.is_none_or(|l| n < l);
                    if n >= size && n > 0 && within_limit {
                        self.phase = Phase::Sequential(2);
                    }
                }
            }
        }
        let (page, failure) = self.examine(page, 1, total_pages, problem);
        self.emit(page, failure)
    }

    /// Later pages, fetched `concurrency` at a time and yielded in order,
    /// each with the number it was asked for.
    fn prefetch(&self, numbers: std::ops::RangeInclusive<u64>, size: u64) -> Prefetched<'a, S::Item> {
        let source = Arc::clone(&self.source);
        stream::iter(numbers)
            .map(move |n| {
                let source = Arc::clone(&source);
                async move { (n, source.fetch(n, size).await) }
            })
            .buffered(self.options.concurrency)
            .boxed()
    }

    /// Checks page `expected` of `total_pages` (when known), given a
    /// `problem` found already, and drops the items listed before; the page
    /// with its new items, and the error that ends the walk after them.
    fn examine(
        &mut self,
        mut page: Page<S::Item>,
        expected: u64,
        total_pages: Option<u64>,
        problem: Option<String>,
    ) -> (Page<S::Item>, Option<Error>) {
        let mut problem = problem
            .or_else(|| wrong_page(expected, page.page))
            .or_else(|| changed_totals(self.totals, &page))
            .or_else(|| empty_before_the_end(expected, page.items.len(), total_pages));
        let received = page.items.len() as u64;
        self.received += received;
        let mut repeats = Vec::new();
        page.items.retain(|item| match S::key(item) {
            Some(key) => match self.seen.record(key, expected) {
                Ok(()) => true,
                Err(first) => {
                    repeats.push(first);
                    false
                }
            },
            None => true,
        });
        if !repeats.is_empty() {
            tracing::warn!(
                operation = self.source.operation(),
                page = expected,
                repeats = repeats.len(),
                items = %shown_repeats(&repeats),
                "items listed again are dropped"
            );
        }
        problem = problem.or_else(|| only_repeats(expected, received, &repeats, self.options.page_size));
        self.yielded += page.items.len() as u64;
        let failure = problem.map(|reason| self.error(expected, page.request_id.clone(), reason));
        (page, failure)
    }

    /// The page, and the failure after it: next, or at once when the page
    /// has no item to yield.
    fn emit(&mut self, page: Page<S::Item>, failure: Option<Error>) -> Result<Page<S::Item>, Error> {
        match failure {
            None => Ok(page),
            Some(e) if page.items.is_empty() => Err(e),
            Some(e) => {
                self.phase = Phase::Failed(e);
                Ok(page)
            }
        }
    }

    /// After the last prefetched page: were all announced items there?
    fn finish(&mut self, span: Span) -> Option<Error> {
        let expected = self.expected_total.take()?;
        if span.last < span.total || self.received >= expected {
            // Stopped at the limit, or everything came.
            return None;
        }
        let reason = format!("the server announced {expected} items but sent {}", self.received);
        Some(self.error(span.last.max(1), None, reason))
    }

    fn error(&self, page: u64, request_id: Option<String>, reason: String) -> Error {
        Error::Pagination {
            operation: self.source.operation().to_owned(),
            page,
            reason,
            request_id,
        }
    }
}

/// Why the first page's counts cannot be right, if they cannot: more items
/// than its size, more pages than `max_pages`, a page count that disagrees
/// with the element count, items on a list of no pages.
fn first_page_problem(
    items: u64,
    size: u64,
    elements: Option<u64>,
    pages: Option<u64>,
    max_pages: u64,
) -> Option<String> {
    if items > size {
        return Some(format!("page 1 has {items} items, more than its size {size}"));
    }
    let total = pages.or_else(|| elements.map(|e| e.div_ceil(size)))?;
    if total > max_pages {
        return Some(format!(
            "the server announced {total} pages, more than the {max_pages} allowed \
             (PaginationOptions::max_pages)"
        ));
    }
    if let Some(elements) = elements {
        let expected = elements.div_ceil(size);
        if total != expected {
            return Some(format!(
                "the server announced {total} pages but {elements} elements at {size} \
                 a page ({expected} pages)"
            ));
        }
    }
    if total == 0 && items > 0 {
        return Some(format!("the server announced 0 pages but sent {items} items"));
    }
    None
}

/// Why page `sent` is not page `expected`, if it is not.
fn wrong_page(expected: u64, sent: u64) -> Option<String> {
    (sent != expected).then(|| format!("asked for page {expected}, the server sent page {sent}"))
}

/// Why a page of `items` items is wrong to be empty: it is a later page
/// the list announced.
fn empty_before_the_end(page: u64, items: usize, total_pages: Option<u64>) -> Option<String> {
    let announced = total_pages.filter(|total| page > 1 && page <= *total)?;
    (items == 0).then(|| format!("page {page} of {announced} is empty"))
}

/// Why page `page` is not the page asked for, if it is a full page
/// (`size` items) of nothing but `repeats` of items listed before (each with
/// the page it was first on): a page served twice, or a server that ignores
/// the page number. A shorter page of repeats (the end of a list that
/// shifted) is not.
fn only_repeats(page: u64, received: u64, repeats: &[(String, u64)], size: u64) -> Option<String> {
    if received == 0 || received < size || (repeats.len() as u64) < received {
        return None;
    }
    let mut first: Vec<u64> = repeats.iter().map(|(_, p)| *p).collect();
    first.sort_unstable();
    first.dedup();
    let first: Vec<String> = first.iter().map(u64::to_string).collect();
    Some(format!(
        "page {page} lists only items already listed on page {}: not the page asked for",
        first.join(", ")
    ))
}

/// The first few repeats for a log line: `"a" (page 1), "b" (page 1), ...`.
fn shown_repeats(repeats: &[(String, u64)]) -> String {
    const SHOWN: usize = 5;
    let mut shown: Vec<String> = repeats
        .iter()
        .take(SHOWN)
        .map(|(key, page)| format!("{key:?} (page {page})"))
        .collect();
    if repeats.len() > SHOWN {
        shown.push(format!("and {} more", repeats.len() - SHOWN));
    }
    shown.join(", ")
}

/// After the pages up to `span.last`: the next pages to ask for when the
/// limit is not reached yet (repeats were dropped) and the list has more.
fn more_pages(
    limit: Option<u64>,
    yielded: u64,
    size: u64,
    span: Span,
) -> Option<std::ops::RangeInclusive<u64>> {
    let missing = limit?.checked_sub(yielded).filter(|m| *m > 0)?;
    if span.last >= span.total {
        return None;
    }
    let pages = missing.div_ceil(size.max(1));
    Some(span.last + 1..=span.total.min(span.last.saturating_add(pages)))
}

/// Why `page`'s totals are not the ones page 1 announced (`first`), if not.
fn changed_totals<T>(first: Option<(Option<u64>, Option<u64>)>, page: &Page<T>) -> Option<String> {
    let (elements, pages) = first?;
    let now = (page.total_elements, page.total_pages);
    if page.page <= 1 || now == (elements, pages) {
        return None;
    }
    let show = |e: Option<u64>, p: Option<u64>| {
        let n = |v: Option<u64>| v.map_or_else(|| "no".to_owned(), |v| v.to_string());
        format!("{} pages and {} items", n(p), n(e))
    };
    Some(format!(
        "page 1 announced {}, page {} announces {}; the list changed during the walk",
        show(elements, pages),
        page.page,
        show(now.0, now.1)
    ))
}

/// Streams over a list builder's pages and items.
///
/// Implemented by the list builders of the generated clients.
///
/// ```no_run
/// # async fn demo(client: &cloud_images::contabo::Client) -> Result<(), cloud_images::Error> {
/// use cloud_images::{Paginate, PaginationOptions};
/// use futures::TryStreamExt;
///
/// // Every custom image, pages prefetched 8 at a time.
/// let custom: Vec<_> = client.retrieve_image_list().standard_image(false).stream().try_collect().await?;
///
/// // The first 25 whose name matches, one page at a time.
/// let some: Vec<_> = client
///     .retrieve_image_list()
///     .search("ubuntu")
///     .stream_with(PaginationOptions::default().with_concurrency(1).with_limit(25))
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
pub trait Paginate<'a>: Sized {
    /// The items of the list.
    type Item: Send + 'a;

    /// Pages, with these options.
    fn pages_with(self, options: PaginationOptions) -> BoxStream<'a, Result<Page<Self::Item>, Error>>;

    /// Pages, with the default options.
    fn pages(self) -> BoxStream<'a, Result<Page<Self::Item>, Error>> {
        self.pages_with(PaginationOptions::default())
    }

    /// Items of all pages, with these options.
    fn stream_with(self, options: PaginationOptions) -> BoxStream<'a, Result<Self::Item, Error>>;

    /// Items of all pages, with the default options.
    fn stream(self) -> BoxStream<'a, Result<Self::Item, Error>> {
        self.stream_with(PaginationOptions::default())
    }
}

#[cfg(test)]
mod tests {
    //! The walk over an in-memory source: no HTTP, every rule of the walk.

    use std::sync::Mutex;

    use futures::TryStreamExt;

    use super::*;

    /// A list of `total` numbers served `size` a page, announcing the totals
    /// chosen by `totals(page_size)`; records the pages asked for.
    struct Memory {
        total: u64,
        totals: fn(u64, u64) -> (Option<u64>, Option<u64>),
        max_page_size: Option<u64>,
        asked: Mutex<Vec<(u64, u64)>>,
    }

    impl Memory {
        fn new(total: u64, totals: fn(u64, u64) -> (Option<u64>, Option<u64>)) -> Self {
            Self {
                total,
                totals,
                max_page_size: None,
                asked: Mutex::default(),
            }
        }
        fn asked(&self) -> Vec<(u64, u64)> {
            let mut asked = self.asked.lock().unwrap().clone();
            asked.sort();
            asked
        }
    }

    impl PageSource for &Memory {
        type Item = u64;
        fn operation(&self) -> &'static str {
            "list_numbers"
        }
        async fn fetch(&self, page: u64, size: u64) -> Result<Page<u64>, Error> {
            self.asked.lock().unwrap().push((page, size));
            let items = ((page - 1) * size..(page * size).min(self.total)).collect();
            let (elements, pages) = (self.totals)(self.total, size);
            Ok(Page::new(items, page, size).with_totals(elements, pages))
        }
        fn key(item: &u64) -> Option<String> {
            Some(item.to_string())
        }
        fn max_page_size(&self) -> Option<u64> {
            self.max_page_size
        }
    }

    fn both(total: u64, size: u64) -> (Option<u64>, Option<u64>) {
        (Some(total), Some(total.div_ceil(size)))
    }
    fn elements_only(total: u64, _: u64) -> (Option<u64>, Option<u64>) {
        (Some(total), None)
    }
    fn none(_: u64, _: u64) -> (Option<u64>, Option<u64>) {
        (None, None)
    }

    async fn walk(source: &Memory, options: PaginationOptions) -> Result<Vec<u64>, Error> {
        items(source, options).try_collect().await
    }

    #[tokio::test]
    async fn every_item_once_in_order_whatever_the_totals_say() {
        for totals in [both, elements_only, none] {
            for concurrency in [1, 3, 8] {
                let source = Memory::new(95, totals);
                let options = PaginationOptions::default()
                    .with_page_size(10)
                    .with_concurrency(concurrency);
                assert_eq!(walk(&source, options).await.unwrap(), (0..95).collect::<Vec<_>>());
                let pages: Vec<u64> = source.asked().iter().map(|(p, _)| *p).collect();
                assert_eq!(pages, (1..=10).collect::<Vec<_>>(), "each page once");
            }
        }
    }

    #[tokio::test]
    async fn an_item_count_alone_lets_the_walk_prefetch_and_check_the_end() {
        // Announcing 30 items at 10 a page means 3 pages: a fourth is never asked for.
        let source = Memory::new(30, elements_only);
        let got = walk(&source, PaginationOptions::default().with_page_size(10))
            .await
            .unwrap();
        assert_eq!(got.len(), 30);
        assert_eq!(source.asked(), [(1, 10), (2, 10), (3, 10)]);
    }

    #[tokio::test]
    async fn a_limit_fetches_only_the_pages_it_needs() {
        let source = Memory::new(1000, both);
        let options = PaginationOptions::default().with_page_size(10).with_limit(25);
        assert_eq!(walk(&source, options).await.unwrap(), (0..25).collect::<Vec<_>>());
        assert_eq!(source.asked(), [(1, 10), (2, 10), (3, 10)]);
    }

    #[tokio::test]
    async fn a_page_size_above_the_apis_maximum_sends_nothing() {
        let mut source = Memory::new(10, both);
        source.max_page_size = Some(200);
        let err = walk(&source, PaginationOptions::default().with_page_size(500))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "invalid request: list_numbers: page size 500 is more than the API allows \
             (1 to 200; PaginationOptions::page_size)"
        );
        assert!(source.asked().is_empty());
        let fine = walk(&source, PaginationOptions::default().with_page_size(200)).await;
        assert_eq!(fine.unwrap().len(), 10);
    }

    /// 10 numbers a page, 40 pages, with page `to` serving what page
    /// `from` holds (whole, or only its first item in place of `to`'s first).
    struct Repeats {
        from: u64,
        to: u64,
        whole_page: bool,
    }

    impl PageSource for &Repeats {
        type Item = u64;
        fn operation(&self) -> &'static str {
            "list_numbers"
        }
        async fn fetch(&self, page: u64, size: u64) -> Result<Page<u64>, Error> {
            let numbers = |p: u64| ((p - 1) * size..p * size).collect::<Vec<_>>();
            let mut items = numbers(page);
            if page == self.to {
                if self.whole_page {
                    items = numbers(self.from);
                } else {
                    items[0] = numbers(self.from)[0];
                }
            }
            Ok(Page::new(items, page, size).with_totals(Some(400), Some(40)))
        }
        fn key(item: &u64) -> Option<String> {
            Some(item.to_string())
        }
    }

    /// The items before the error, and the error.
    async fn walk_to_error(source: &Repeats, concurrency: usize) -> (usize, Error) {
        let options = PaginationOptions::default()
            .with_page_size(10)
            .with_concurrency(concurrency);
        let mut stream = items(source, options);
        let mut before = 0;
        loop {
            match stream.next().await {
                Some(Ok(_)) => before += 1,
                Some(Err(e)) => {
                    assert!(stream.next().await.is_none(), "the error ends the stream");
                    return (before, e);
                }
                None => panic!("the page served twice was not caught"),
            }
        }
    }

    #[tokio::test]
    async fn a_page_served_twice_within_the_window_is_an_error_after_the_pages_before_it() {
        for concurrency in [1, 8] {
            for (from, to) in [
                (7, 8),
                (1, 2),
                (3, 3 + DUPLICATE_WINDOW_PAGES),
                (40 - DUPLICATE_WINDOW_PAGES, 40),
            ] {
                let source = Repeats {
                    from,
                    to,
                    whole_page: true,
                };
                let (before, err) = walk_to_error(&source, concurrency).await;
                assert_eq!(before as u64, (to - 1) * 10, "pages {from} and {to}");
                let Error::Pagination { page, reason, .. } = err else {
                    panic!("{err:?}")
                };
                assert_eq!(page, to);
                assert_eq!(
                    reason,
                    format!(
                        "page {to} lists only items already listed on page {from}: not the page asked for"
                    )
                );
            }
        }
    }

    #[tokio::test]
    async fn one_item_repeated_within_the_window_is_dropped_and_the_walk_goes_on() {
        for concurrency in [1, 8] {
            for (from, to) in [(4, 5), (2, 2 + DUPLICATE_WINDOW_PAGES)] {
                let source = Repeats {
                    from,
                    to,
                    whole_page: false,
                };
                let options = PaginationOptions::default()
                    .with_page_size(10)
                    .with_concurrency(concurrency);
                let got: Vec<u64> = items(&source, options).try_collect().await.unwrap();
                let replaced = (to - 1) * 10;
                let expected: Vec<u64> = (0..400).filter(|n| *n != replaced).collect();
                assert_eq!(got, expected, "pages {from} and {to}");
            }
        }
    }

    /// A list of `0..total`, 10 a page, that lists item `twice` again
    /// right after itself; announces the totals it would have without the
    /// repeat, or with it.
    struct Twice {
        total: u64,
        twice: u64,
        counts_the_repeat: bool,
    }

    impl PageSource for &Twice {
        type Item = u64;
        fn operation(&self) -> &'static str {
            "list_numbers"
        }
        async fn fetch(&self, page: u64, size: u64) -> Result<Page<u64>, Error> {
            let mut all: Vec<u64> = (0..self.total).collect();
            all.insert(self.twice as usize + 1, self.twice);
            let start = ((page - 1) * size) as usize;
            let items: Vec<u64> = all.iter().copied().skip(start).take(size as usize).collect();
            let elements = if self.counts_the_repeat {
                all.len() as u64
            } else {
                self.total
            };
            Ok(Page::new(items, page, size).with_totals(Some(elements), None))
        }
        fn key(item: &u64) -> Option<String> {
            Some(item.to_string())
        }
    }

    #[tokio::test]
    async fn an_item_listed_twice_on_page_one_costs_nothing() {
        let source = Twice {
            total: 25,
            twice: 3,
            counts_the_repeat: true,
        };
        let options = PaginationOptions::default().with_page_size(10);
        let got: Vec<u64> = items(&source, options).try_collect().await.unwrap();
        assert_eq!(got, (0..25).collect::<Vec<_>>());
        // A limit still gets its items: the page the repeat pushed out is fetched.
        let limited: Vec<u64> = items(&source, options.with_limit(10))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(limited, (0..10).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn the_announced_count_is_checked_against_what_was_sent_repeats_included() {
        // 21 announced and sent, one of them a repeat: 20 items, no error.
        let source = Twice {
            total: 20,
            twice: 5,
            counts_the_repeat: true,
        };
        let options = PaginationOptions::default().with_page_size(10);
        let got: Vec<u64> = items(&source, options).try_collect().await.unwrap();
        assert_eq!(got, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn a_full_page_of_repeats_is_a_page_other_than_the_one_asked() {
        let repeats = |n: u64, page: u64| (0..n).map(|i| (i.to_string(), page)).collect::<Vec<_>>();
        assert_eq!(
            only_repeats(3, 10, &repeats(10, 2), 10).as_deref(),
            Some("page 3 lists only items already listed on page 2: not the page asked for")
        );
        let mut two = repeats(5, 1);
        two.extend(repeats(5, 2));
        assert!(only_repeats(3, 10, &two, 10).unwrap().contains("on page 1, 2:"));
        assert_eq!(only_repeats(3, 10, &repeats(9, 2), 10), None, "a new item came");
        assert_eq!(only_repeats(3, 4, &repeats(4, 2), 10), None, "a short last page");
        assert_eq!(only_repeats(3, 0, &[], 10), None);
    }

    #[test]
    fn the_first_page_counts_must_add_up() {
        assert_eq!(first_page_problem(2, 2, Some(4), Some(2), 100), None);
        assert_eq!(first_page_problem(2, 2, None, None, 100), None);
        assert_eq!(first_page_problem(0, 2, Some(0), Some(0), 100), None);
        assert_eq!(
            first_page_problem(3, 2, None, None, 100).as_deref(),
            Some("page 1 has 3 items, more than its size 2")
        );
        assert!(
            first_page_problem(2, 2, Some(4), Some(1_000), 100)
                .unwrap()
                .contains("1000 pages")
        );
        assert!(
            first_page_problem(2, 2, None, Some(1_000), 100)
                .unwrap()
                .contains("1000 pages")
        );
        assert!(
            first_page_problem(2, 2, Some(4), Some(9), 100)
                .unwrap()
                .contains("9 pages but 4 elements")
        );
        assert_eq!(
            first_page_problem(1, 2, None, Some(0), 100).as_deref(),
            Some("the server announced 0 pages but sent 1 items")
        );
    }

    #[test]
    fn a_page_is_the_one_asked_for_and_not_empty_before_the_end() {
        assert_eq!(wrong_page(2, 2), None);
        assert_eq!(
            wrong_page(2, 1).as_deref(),
            Some("asked for page 2, the server sent page 1")
        );
        assert_eq!(
            empty_before_the_end(2, 0, Some(3)).as_deref(),
            Some("page 2 of 3 is empty")
        );
        assert!(
            empty_before_the_end(3, 0, Some(3)).is_some(),
            "the last announced page too"
        );
        assert_eq!(empty_before_the_end(4, 0, Some(3)), None);
        assert_eq!(empty_before_the_end(1, 0, Some(3)), None, "an empty list");
        assert_eq!(empty_before_the_end(2, 0, None), None);
        assert_eq!(empty_before_the_end(2, 1, Some(3)), None);
    }

    #[test]
    fn a_limit_short_of_items_asks_for_the_next_pages() {
        let span = |last, total| Span { last, total };
        assert_eq!(more_pages(Some(10), 9, 10, span(1, 5)), Some(2..=2));
        assert_eq!(more_pages(Some(30), 5, 10, span(1, 5)), Some(2..=4));
        assert_eq!(more_pages(Some(30), 5, 10, span(4, 5)), Some(5..=5));
        assert_eq!(
            more_pages(Some(10), 10, 10, span(1, 5)),
            None,
            "the limit is reached"
        );
        assert_eq!(more_pages(Some(10), 9, 10, span(5, 5)), None, "no more pages");
        assert_eq!(more_pages(None, 9, 10, span(1, 5)), None);
    }

    #[test]
    fn a_log_line_shows_the_first_repeats() {
        let repeats: Vec<(String, u64)> = (0..7).map(|i| (format!("id-{i}"), 1)).collect();
        assert_eq!(
            shown_repeats(&repeats[..2]),
            "\"id-0\" (page 1), \"id-1\" (page 1)"
        );
        assert!(shown_repeats(&repeats).ends_with(", and 2 more"));
        assert_eq!(shown_repeats(&[("a\nb".into(), 2)]), "\"a\\nb\" (page 2)");
    }

    #[test]
    fn the_keys_held_stay_within_twice_the_window() {
        let mut seen = Seen::default();
        let mut most = 0;
        for page in 1..=10_000u64 {
            for i in 0..10 {
                seen.record((page * 10 + i).to_string(), page).unwrap();
            }
            most = most.max(seen.len());
            // Every page of the window is still held.
            let back = page.saturating_sub(DUPLICATE_WINDOW_PAGES).max(1);
            assert_eq!(
                seen.record((back * 10).to_string(), page),
                Err(((back * 10).to_string(), back))
            );
        }
        assert!(most as u64 <= 2 * DUPLICATE_WINDOW_PAGES * 10, "{most} keys held");
    }

    #[tokio::test]
    async fn a_long_walk_yields_every_item() {
        let source = Memory::new(200_000, both);
        let got = walk(
            &source,
            PaginationOptions::default()
                .with_page_size(10)
                .with_max_pages(1_000_000),
        )
        .await
        .unwrap();
        assert_eq!(got.len(), 200_000);
        assert!(got.iter().enumerate().all(|(i, n)| i as u64 == *n));
    }

    #[test]
    fn totals_must_stay_what_page_1_announced() {
        let page = |n, e, p| Page::new(vec![1], n, 2).with_totals(e, p);
        let first = Some((Some(4), Some(2)));
        assert_eq!(changed_totals(first, &page(2, Some(4), Some(2))), None);
        assert_eq!(changed_totals(None, &page(2, Some(6), Some(3))), None);
        assert_eq!(changed_totals(first, &page(1, Some(6), Some(3))), None);
        assert_eq!(
            changed_totals(first, &page(2, Some(6), Some(3))).as_deref(),
            Some(
                "page 1 announced 2 pages and 4 items, page 2 announces 3 pages and 6 items; the list changed during the walk"
            )
        );
        assert!(changed_totals(first, &page(2, None, Some(2))).is_some());
        assert!(changed_totals(Some((None, None)), &page(3, Some(1), None)).is_some());
    }
}
