"""The peer in the crawl bench: Scrapy over the same synthetic site, doing the same work.

Same scope and patterns as the luutru config the bench writes (listing pages followed,
article pages followed and extracted, depth limit 100), the same selectors (title
`h1.title`, date `span.h5` parsed to ISO 8601 at +07:00, lead `.hometext`, body
`#news-bodyhtml` as NFC paragraphs, author `p.h5.text-right`), one item per article
written as JSON lines by the feed exporter. Settings come from run.sh on the command line
(64 concurrent requests, per domain too, no delay, no AutoThrottle, INFO logging).

Run: scrapy runspider scrapy_spider.py -a start=http://127.0.0.1:PORT/ -a stats=FILE ...
"""

import json
import re
import unicodedata

from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule

ARTICLE = r"/news/[a-z0-9-]+/[a-z0-9-]+-\d+\.html$"
FOLLOW = r"/news/[a-z0-9-]+/(page-\d+)?$"
DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\D+(\d{1,2}):(\d{2}))?")
SPACE = re.compile(r"\s+")


def clean(text):
    return SPACE.sub(" ", unicodedata.normalize("NFC", text or "")).strip()


def text_of(sel):
    return clean(" ".join(sel.css("::text").getall()))


class BenchSpider(CrawlSpider):
    name = "bench"

    def __init__(self, start="", stats="", **kw):
        self.start_urls = [start]
        self.allowed_domains = ["127.0.0.1"]
        self.stats_file = stats
        self.rules = (
            Rule(LinkExtractor(allow=ARTICLE), callback="parse_article", follow=True),
            Rule(LinkExtractor(allow=FOLLOW), follow=True),
        )
        super().__init__(**kw)

    def parse_article(self, response):
        published = None
        m = DATE.search(response.css("span.h5::text").get() or "")
        if m:
            d, mo, y, h, mi = m.groups()
            published = f"{y}-{int(mo):02}-{int(d):02}T{int(h or 0):02}:{int(mi or 0):02}:00+07:00"
        body = response.css("#news-bodyhtml")
        paras = [text_of(p) for p in body.css("p, figcaption")]
        yield {
            "url": response.url,
            "title": text_of(response.css("h1.title")),
            "published": published,
            "author": text_of(response.css("p.h5.text-right")) or None,
            "summary": text_of(response.css(".hometext")) or None,
            "body": "\n\n".join(p for p in paras if p),
            "captions": [text_of(c) for c in body.css("figcaption")],
        }

    def closed(self, reason):
        if self.stats_file:
            with open(self.stats_file, "w") as f:
                json.dump(self.crawler.stats.get_stats(), f, default=str, indent=1)
