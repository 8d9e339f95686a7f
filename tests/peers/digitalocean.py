"""Drives a DigitalOcean API (the fake, or anything that answers like it) with
DigitalOcean's Python client, pydo, through every images operation it has,
and checks what the real API promises.

    python digitalocean.py API_URL

The token is DIGITALOCEAN_TOKEN (the fake's by default).
"""

import os
import sys
import urllib.parse
import uuid

import pydo
from azure.core.exceptions import HttpResponseError

from common import Run, check, need, until

PER_PAGE = 20
# pydo (azure-core) refuses to send a bearer token over plain HTTP; this
# per-call option of azure-core's BearerTokenCredentialPolicy allows it, for
# a loopback fake only.
PLAIN_HTTP = {"enforce_https": False}


def all_pages(client, **filters):
    """Every image over all pages, following links.pages.next as given."""
    seen, query = [], {**filters, "per_page": PER_PAGE, "page": 1}
    for _ in range(1000):
        answer = client.images.list(**query, **PLAIN_HTTP)
        seen += answer["images"]
        pages = answer.get("links", {}).get("pages", {})
        if "next" not in pages:
            total = answer["meta"]["total"]
            check(len(seen) == total, f"{len(seen)} images over all pages, meta.total {total}")
            ids = [i["id"] for i in seen]
            check(len(set(ids)) == len(ids), "an image came twice over the pages")
            return seen
        check(len(answer["images"]) == PER_PAGE, f"page {query['page']} (not the last) has {len(answer['images'])} images")
        # The next page is the link's own query (a client follows it as is).
        link = urllib.parse.urlsplit(pages["next"])
        query = dict(urllib.parse.parse_qsl(link.query))
        query = {k: (v == "true" if v in ("true", "false") else v) for k, v in query.items()}
        for key in ("per_page", "page"):
            query[key] = int(query.get(key, 0))
    raise AssertionError("more than 1000 pages")


def list_filters(client):
    private = all_pages(client, private=True)
    check(private, "no private image seeded")
    check(all(i["public"] is False for i in private), f"private=true listed public images: {[i['id'] for i in private if i['public']][:5]}")
    distributions = all_pages(client, type="distribution")
    check(distributions, "no distribution image seeded")
    check(all(i["public"] and i["type"] == "base" for i in distributions),
          f"type=distribution listed {sorted({(i['type'], i['public']) for i in distributions})}")
    applications = all_pages(client, type="application")
    check(not {i["id"] for i in applications} & {i["id"] for i in distributions},
          "an image is both an application and a distribution")
    tagged = [i for i in private if i.get("tags")]
    if tagged:
        tag = tagged[0]["tags"][0]
        by_tag = all_pages(client, tag_name=tag)
        check(by_tag and all(tag in i["tags"] for i in by_tag), f"tag_name={tag} listed images without the tag")
    return distributions[0]["slug"]


def by_slug(client, slug):
    image = client.images.get(slug, **PLAIN_HTTP)["image"]
    check(image["slug"] == slug, f"asked for {slug}, got {image['slug']}")


def create(client, name):
    answer = client.images.create_custom(
        {
            "name": name,
            "url": "https://example.com/images/peers-check.qcow2",
            "region": "nyc3",
            "distribution": "Debian",
            "description": "made by the peers check",
            "tags": ["peers-check"],
        },
        **PLAIN_HTTP,
    )
    image = answer["image"]
    check(image["name"] == name, f"created as {image['name']!r}")
    check(image["status"] == "NEW", f"a new custom image is {image['status']!r}, not NEW")
    return image["id"]


def get(client, image_id):
    image = client.images.get(image_id, **PLAIN_HTTP)["image"]
    check(image["id"] == image_id, f"asked for {image_id}, got {image['id']}")
    return image


def wait_available(client, image_id):
    image = until(f"image {image_id} available", lambda: get(client, image_id),
                  lambda i: i["status"] in ("available", "deleted"))
    check(image["status"] == "available", f"image ended {image['status']}: {image.get('error_message')}")
    check(image["regions"], "an available image is in no region")


def listed(client, image_id, name):
    found = [i for i in all_pages(client, private=True) if i["id"] == image_id]
    check(len(found) == 1, f"the created image is listed {len(found)} times")
    check(found[0]["name"] == name, f"listed as {found[0]['name']!r}")
    by_tag = [i["id"] for i in all_pages(client, tag_name="peers-check")]
    check(image_id in by_tag, "tag_name=peers-check does not list the created image")


def rename(client, image_id, name):
    answer = client.images.update(image_id, {"name": name, "description": "renamed", "distribution": "Ubuntu"}, **PLAIN_HTTP)
    check(answer["image"]["name"] == name, f"update answered {answer['image']['name']!r}")
    image = get(client, image_id)
    check(image["name"] == name, f"after the rename the image is {image['name']!r}")
    check(image["distribution"] == "Ubuntu", f"distribution is {image['distribution']!r}")


def action(client, image_id, body):
    posted = client.image_actions.post(image_id, body, **PLAIN_HTTP)["action"]
    check(posted["type"] == body["type"], f"posted {body['type']}, got {posted['type']}")
    check(posted["resource_id"] == image_id, f"action on {posted['resource_id']}, not {image_id}")
    done = until(f"{body['type']} action {posted['id']} completed",
                 lambda: client.image_actions.get(image_id, posted["id"], **PLAIN_HTTP)["action"],
                 lambda a: a["status"] in ("completed", "errored"))
    check(done["status"] == "completed", f"the {body['type']} action ended {done['status']}")
    return posted["id"]


def transfer(client, image_id):
    action_id = action(client, image_id, {"type": "transfer", "region": "ams3"})
    image = get(client, image_id)
    check("ams3" in image["regions"], f"after the transfer the image is in {image['regions']}")
    return action_id


def actions_listed(client, image_id, action_ids):
    answer = client.image_actions.list(image_id, **PLAIN_HTTP)
    listed_ids = [a["id"] for a in answer["actions"]]
    for action_id in action_ids:
        check(action_id in listed_ids, f"action {action_id} is not listed: {listed_ids}")
    check(answer["meta"]["total"] == len(answer["actions"]), "meta.total is not the number of actions")


def account_transfer(client, image_id):
    created = client.images.post_account_transfer_create(image_id, {"recipient_email": "alice@example.com"}, **PLAIN_HTTP)
    transfer_id = created["transfer_id"]
    check(isinstance(transfer_id, int) and transfer_id > 0, f"transfer_id {transfer_id!r} (a pending transfer has one)")
    client.images.post_account_transfer_cancel(image_id, {"transfer_id": transfer_id}, **PLAIN_HTTP)
    check(get(client, image_id)["id"] == image_id, "the image left the account after a cancelled transfer")


def delete(client, image_id):
    client.images.delete(image_id, **PLAIN_HTTP)
    try:
        client.images.get(image_id, **PLAIN_HTTP)
    except HttpResponseError as e:
        check(e.status_code == 404, f"get after delete: HTTP {e.status_code}, not 404")
    else:
        raise AssertionError("the deleted image is still there")
    check(image_id not in [i["id"] for i in all_pages(client, private=True)], "the deleted image is still listed")


def refused_token(api_url):
    client = pydo.Client("not-the-token", endpoint=api_url)
    try:
        client.images.list(**PLAIN_HTTP)
    except HttpResponseError as e:
        check(e.status_code == 401, f"a wrong token: HTTP {e.status_code}, not 401")
    else:
        raise AssertionError("a wrong token was accepted")


def main():
    api_url = sys.argv[1]
    client = pydo.Client(os.environ.get("DIGITALOCEAN_TOKEN", "do-demo-token"), endpoint=api_url)
    run = Run("digitalocean")
    run.step("a wrong token is refused", refused_token, api_url)
    run.step("list all pages", all_pages, client)
    slug = run.step("list filters (private, type, tag_name) over all pages", list_filters, client)
    run.step("get a distribution by its slug", lambda: by_slug(client, need(slug, "a distribution's slug")))
    name = f"peers-{uuid.uuid4().hex[:8]}"
    image_id = run.step("create a custom image from a URL", create, client, name)
    the = lambda: need(image_id, "the created image")  # noqa: E731
    run.step("wait until available", lambda: wait_available(client, the()))
    run.step("the created image is listed (private, tag_name)", lambda: listed(client, the(), name))
    run.step("rename", lambda: rename(client, the(), name + "-renamed"))
    transfer_id = run.step("transfer action, wait until completed", lambda: transfer(client, the()))
    convert_id = run.step("convert action, wait until completed", lambda: action(client, the(), {"type": "convert"}))
    run.step("list the image's actions", lambda: actions_listed(
        client, the(), [need(transfer_id, "the transfer"), need(convert_id, "the convert")]))
    run.step("account transfer: create, cancel", lambda: account_transfer(client, the()))
    run.step("delete, then 404 and not listed", lambda: delete(client, the()))
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
