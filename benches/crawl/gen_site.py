#!/usr/bin/env python3
"""Generates the synthetic provincial site the crawl bench serves.

One CMS template (NukeViet 4, the family of many Party-committee and district portals, see
shared/SITES.md): a home page, eight categories with paginated listings
(`/news/<cat>/`, `/news/<cat>/page-<n>`), and N article pages
(`/news/<cat>/<slug>-<id>.html`) of 30-80 KB each: header, mega menu, breadcrumbs, the
article (title, date line, lead, body with figures and captions, author), "other news",
sidebar blocks, a footer and inline scripts. The text is Vietnamese, drawn word by word
from a fixed vocabulary with skewed frequencies, so it compresses like real text and no
two articles share a paragraph.

Deterministic: the same N gives byte-identical files, so luutru and Scrapy crawl the same
bytes, and a recrawl finds every page unchanged.

Usage: gen_site.py OUT_DIR N_ARTICLES
"""

import multiprocessing
import os
import random
import sys
import unicodedata
from datetime import datetime, timedelta

PER_PAGE = 20
CATEGORIES = [
    ("tin-tuc-su-kien", "Tin tức - Sự kiện"),
    ("chinh-tri", "Chính trị"),
    ("kinh-te", "Kinh tế"),
    ("van-hoa-xa-hoi", "Văn hóa - Xã hội"),
    ("nong-nghiep-nong-thon", "Nông nghiệp - Nông thôn"),
    ("quoc-phong-an-ninh", "Quốc phòng - An ninh"),
    ("xay-dung-dang", "Xây dựng Đảng"),
    ("chuyen-doi-so", "Chuyển đổi số"),
]
SITE = "Cổng thông tin điện tử Tỉnh ủy Hải Dương"

# Words and short phrases of provincial news, most frequent first (sampled Zipf-like).
VOCAB = """
và của các trong đã được cho với là có những tại này về để không người một theo
đồng chí tỉnh huyện xã phường thị trấn thành phố công tác cán bộ đảng viên nhân dân
phát triển kinh tế xã hội năm 2022 2023 kế hoạch triển khai thực hiện chỉ đạo Ban Thường vụ
Tỉnh ủy Huyện ủy Thành ủy Ủy ban nhân dân Hội đồng nhân dân Mặt trận Tổ quốc đoàn thể
chính quyền địa phương cơ sở hội nghị tổng kết sơ kết đánh giá kết quả nhiệm vụ giải pháp
trọng tâm thời gian tới đề nghị yêu cầu tiếp tục đẩy mạnh nâng cao chất lượng hiệu quả
quản lý nhà nước đầu tư xây dựng nông thôn mới giao thông thủy lợi sản xuất nông nghiệp
vụ lúa mùa chiêm xuân cây trồng vật nuôi chăn nuôi dịch bệnh phòng chống Covid-19 y tế
giáo dục đào tạo học sinh giáo viên trường học văn hóa thể thao du lịch di tích lễ hội
an ninh trật tự an toàn giao thông công an quân sự dân quân tự vệ tuyển quân biên giới
doanh nghiệp khu công nghiệp cụm công nghiệp lao động việc làm thu nhập hộ nghèo cận nghèo
chính sách an sinh xã hội người có công gia đình liệt sĩ thương binh bảo hiểm y tế
cải cách hành chính chuyển đổi số dịch vụ công trực tuyến một cửa hồ sơ thủ tục
ngân sách thu chi vốn nguồn lực dự án công trình tiến độ giải phóng mặt bằng đất đai
môi trường rác thải nước sạch vệ sinh biến đổi khí hậu phòng chống thiên tai mưa bão
Chí Linh Kinh Môn Nam Sách Thanh Hà Cẩm Giàng Bình Giang Gia Lộc Tứ Kỳ Ninh Giang
Thanh Miện Kim Thành Hải Dương Hải Phòng Hà Nội Việt Nam Trung ương Chính phủ Quốc hội
Bí thư Phó Bí thư Chủ tịch Phó Chủ tịch Giám đốc Trưởng ban Phó Trưởng ban Thường trực
tham dự phát biểu nhấn mạnh ghi nhận biểu dương khen thưởng thi đua tuyên truyền vận động
học tập làm theo tư tưởng đạo đức phong cách Hồ Chí Minh nghị quyết Đại hội nhiệm kỳ
2020 2025 2030 tầm nhìn 2045 quy hoạch chiến lược mục tiêu chỉ tiêu tăng trưởng tổng sản phẩm
khó khăn vướng mắc hạn chế nguyên nhân bài học kinh nghiệm tháo gỡ kịp thời đồng bộ
tích cực chủ động sáng tạo quyết liệt trách nhiệm người đứng đầu kỷ luật kỷ cương
kiểm tra giám sát thanh tra khiếu nại tố cáo tiếp công dân đối thoại minh bạch công khai
""".split()
FILLER = ["ngày", "tháng", "cùng", "đến", "từ", "đó", "nhiều", "rất", "đều", "cũng",
          "sẽ", "đang", "vẫn", "còn", "như", "khi", "nên", "bởi", "vì", "nhằm"]
WEEKDAYS = ["Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật"]
AUTHORS = ["Phạm Thị Hoài, VPTU", "Nguyễn Văn Hùng", "Trần Minh Đức - Ban Tuyên giáo",
           "Lê Thu Hà", "Hoàng Minh - Trung tâm VH,TT&amp;TT huyện", "Vũ Đình Nam",
           "Đỗ Thị Lan, Báo Hải Dương", "Bùi Quang Huy"]
PROVINCES = ("An Giang|Bà Rịa - Vũng Tàu|Bắc Giang|Bắc Kạn|Bạc Liêu|Bắc Ninh|Bến Tre|Bình Định|"
             "Bình Dương|Bình Phước|Bình Thuận|Cà Mau|Cần Thơ|Cao Bằng|Đà Nẵng|Đắk Lắk|Đắk Nông|"
             "Điện Biên|Đồng Nai|Đồng Tháp|Gia Lai|Hà Giang|Hà Nam|Hà Nội|Hà Tĩnh|Hải Dương|"
             "Hải Phòng|Hậu Giang|Hòa Bình|Hưng Yên|Khánh Hòa|Kiên Giang|Kon Tum|Lai Châu|"
             "Lâm Đồng|Lạng Sơn|Lào Cai|Long An|Nam Định|Nghệ An|Ninh Bình|Ninh Thuận|Phú Thọ|"
             "Phú Yên|Quảng Bình|Quảng Nam|Quảng Ngãi|Quảng Ninh|Quảng Trị|Sóc Trăng|Sơn La|"
             "Tây Ninh|Thái Bình|Thái Nguyên|Thanh Hóa|Thừa Thiên Huế|Tiền Giang|TP. Hồ Chí Minh|"
             "Trà Vinh|Tuyên Quang|Vĩnh Long|Vĩnh Phúc|Yên Bái").split("|")
# One weighted pool: words (Zipf-like), words with a comma, function words and numbers, so a
# sentence is one `choices` call.
_POOL = [(w, 0.84 / (i + 8)) for i, w in enumerate(VOCAB)]
_POOL += [(w + ",", 0.05 / (i + 8)) for i, w in enumerate(VOCAB)]
_POOL += [(w, 0.08 * 0.2) for w in FILLER]
_POOL += [(str(n), 0.03 * 0.01) for n in random.Random(1).sample(range(2, 9999), 300)]
TOKENS = [w for w, _ in _POOL]
CUM = []
_acc = 0.0
for _, _w in _POOL:
    _acc += _w
    CUM.append(_acc)
EPOCH = datetime(2016, 1, 4, 7, 30)
# Publication dates are spread over this span whatever the number of articles: luutru
# rightly rejects dates in the future, and a fixed step would run past today at 100,000.
SPAN_HOURS = (datetime(2026, 6, 30) - EPOCH).total_seconds() / 3600 - 3


def fold(text):
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def slugify(title):
    words = "".join(c if c.isalnum() else " " for c in fold(title).lower()).split()
    return "-".join(words[:9])


def sentence(rng, lo=10, hi=28):
    words = rng.choices(TOKENS, cum_weights=CUM, k=rng.randint(lo, hi))
    text = " ".join(words).rstrip(",")
    return text[0].upper() + text[1:] + "."


def paragraph(rng):
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))


def article_meta(i, n):
    """Title, date and category of article i of n, without generating its body."""
    rng = random.Random(i * 7919)
    title = sentence(rng, 8, 16).rstrip(".")
    hours = SPAN_HOURS * i / n + rng.randint(0, 2)
    when = EPOCH + timedelta(hours=hours, minutes=rng.randint(0, 59))
    cat = CATEGORIES[i % len(CATEGORIES)]
    return title, when, cat, f"/news/{cat[0]}/{slugify(title)}-{i}.html"


def article_path(_i, meta):
    return meta[3]


def head(title, description, canonical, extra=""):
    return f"""<!DOCTYPE html>
<html lang="vi" xmlns="http://www.w3.org/1999/xhtml" prefix="og: http://ogp.me/ns#">
	<head>
		<title>{title} - {SITE}</title>
		<meta name="description" content="{description}">
		<meta name="author" content="{SITE}">
		<meta name="generator" content="NukeViet v4.5">
		<meta name="viewport" content="width=device-width, initial-scale=1">
		<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
		<meta property="og:title" content="{title}">
		<meta property="og:description" content="{description}">
		<meta property="og:site_name" content="{SITE}">{extra}
		<link rel="canonical" href="{canonical}">
		<link rel="StyleSheet" href="/themes/default/css/bootstrap.non-responsive.css?t=1664323200">
		<link rel="StyleSheet" href="/themes/default/css/font-awesome.min.css?t=1664323200">
		<link rel="StyleSheet" href="/themes/default/css/nukeviet.css?t=1664323200">
		<link rel="StyleSheet" href="/themes/default/css/news.css?t=1664323200">
		<style>{STYLE}</style>
		<script data-show="inline">var nv_base_siteurl="/",nv_lang_data="vi",nv_lang_interface="vi",nv_name_variable="nv",nv_fc_variable="op",nv_is_user=0,nv_my_ofs=7,nv_my_abbr="ICT",nv_check_pass_mstime=1738000,nv_area_admin=0,nv_safemode=0,theme_responsive=0;</script>
		<script src="/assets/js/jquery/jquery.min.js?t=1664323200"></script>
		<script src="/assets/js/language/vi.js?t=1664323200"></script>
		<script src="/assets/js/global.js?t=1664323200"></script>
		<script src="/themes/default/js/main.js?t=1664323200"></script>
	</head>
	<body>
		<div class="body-bg"><div class="wraper">
		<header>
			<div class="container"><div id="header" class="row">
				<div class="logo col-xs-24 col-sm-24 col-md-8"><a title="{SITE}" href="/"><img src="/uploads/logo.png" alt="{SITE}"></a><span class="site_name">{SITE}</span><span class="site_description">Cơ quan của Đảng bộ tỉnh Hải Dương</span></div>
				<div class="col-md-16"><div class="current-time"><span class="fa fa-clock-o"></span> Thứ tư, ngày 24/4/2024</div>
				<div class="headerSearch"><form action="/seek/" method="get"><input type="hidden" name="checkss" value="a81c1c2a9d1b41e3e3bb0a0f0c9c7a55"><input type="text" name="q" maxlength="60" placeholder="Tìm kiếm..."><button type="submit">Tìm</button></form></div></div>
			</div></div>
		</header>
{MENU}"""


def build_style():
    rules = []
    for n, cls in enumerate(["panel", "panel-heading", "panel-body", "news_column", "related",
                             "list-items", "breadcrumbs", "headerSearch", "current-time",
                             "bodytext", "hometext", "other-news", "copyright", "bttop",
                             "second-nav", "navbar-nav", "dropdown-menu", "site_name"]):
        rules.append(f".{cls}{{margin:{n % 5}px {n % 7 + 2}px;padding:{n % 4}px;border:1px solid #e{n % 10}e{n % 10}e{n % 10};font-size:{12 + n % 5}px;line-height:1.{4 + n % 4}}}")
    return "".join(rules)


def build_menu():
    groups = [
        ("Giới thiệu", ["Lịch sử Đảng bộ", "Tổ chức bộ máy", "Lãnh đạo tỉnh qua các thời kỳ",
                        "Điều kiện tự nhiên", "Danh nhân", "Di tích lịch sử", "Làng nghề"]),
        ("Văn bản", ["Văn bản của Trung ương", "Văn bản của Tỉnh ủy", "Nghị quyết",
                     "Chỉ thị", "Kết luận", "Quy định", "Hướng dẫn", "Thông báo"]),
        ("Tư liệu", ["Ảnh", "Video", "Tài liệu tuyên truyền", "Đề cương", "Hỏi đáp"]),
        ("Liên kết", ["Báo Hải Dương", "Cổng thông tin điện tử tỉnh", "Đài PT-TH Hải Dương",
                      "Báo Nhân Dân", "Tạp chí Cộng sản", "Báo điện tử Đảng Cộng sản"]),
    ]
    items = ['<li><a href="/" title="Trang chủ">Trang chủ</a></li>']
    items.append('<li class="dropdown"><a href="/news/" title="Tin tức">Tin tức</a><ul class="dropdown-menu">'
                 + "".join(f'<li><a href="/news/{slug}/" title="{name}">{name}</a></li>' for slug, name in CATEGORIES)
                 + "</ul></li>")
    for g, subs in groups:
        module = slugify(g)
        items.append(f'<li class="dropdown"><a href="/{module}/" title="{g}">{g}</a><ul class="dropdown-menu">'
                     + "".join(f'<li><a href="/{module}/{slugify(s)}/" title="{s}">{s}</a></li>' for s in subs)
                     + "</ul></li>")
    items.append('<li><a href="/contact/" title="Liên hệ">Liên hệ</a></li>')
    return ('\t\t<nav class="second-nav" id="menusite"><div class="container"><ul class="nav navbar-nav">'
            + "".join(items) + "</ul></div></nav>\n")


def sidebar(popular):
    links = "".join(f'<li><a href="{p}" title="{t}">{t}</a></li>' for p, t in popular)
    options = OPTIONS
    return f"""			<div class="col-md-6">
				<div class="panel panel-primary"><div class="panel-heading">Tin xem nhiều</div><div class="panel-body"><ul class="list-items">{links}</ul></div></div>
				<div class="panel panel-primary"><div class="panel-heading">Liên kết website</div><div class="panel-body"><select class="form-control" onchange="window.open(this.value)"><option value="">-- Chọn liên kết --</option>{options}</select></div></div>
				<div class="panel panel-primary"><div class="panel-heading">Thống kê truy cập</div><div class="panel-body"><p>Đang truy cập: 17</p><p>Hôm nay: 1.032</p><p>Tổng lượt truy cập: 2.845.113</p></div></div>
			</div>
"""


SCRIPT = ("<script>" + "".join(
    f"function nv_f{n}(a,b){{var c=document.getElementById('nv{n}');if(!c)return!1;c.className=a?'show':'hide';"
    f"$.ajax({{type:'POST',url:nv_base_siteurl+'index.php?'+nv_lang_variable+'='+nv_lang_data+'&op=f{n}',"
    f"data:'id='+b+'&checkss={n * 7919 % 100000:05d}',success:function(d){{$('#nv{n}').html(d)}}}});return!0}}"
    for n in range(40)) + "</script>")

FOOTER = f"""		<footer id="footer"><div class="container">
			<div class="copyright"><p><strong>{SITE.upper()}</strong></p><p>Cơ quan chủ quản: Văn phòng Tỉnh ủy Hải Dương</p><p>Chịu trách nhiệm chính: Chánh Văn phòng Tỉnh ủy</p><p>Địa chỉ: Số 1 đường Thanh Niên, thành phố Hải Dương, tỉnh Hải Dương. Điện thoại: 0220.3852.217</p><p>Ghi rõ nguồn "{SITE}" khi phát hành lại thông tin từ website này.</p><p>&copy; Bản quyền thuộc Tỉnh ủy Hải Dương. Phát triển trên nền NukeViet CMS.</p></div>
			<div class="bttop"><a class="pointer"><em class="fa fa-eject fa-lg"></em></a></div>
		</div></footer>
		</div></div>
		{SCRIPT}
	</body>
</html>
"""

STYLE = build_style()
OPTIONS = "".join(f'<option value="https://{slugify(p)}.gov.vn/">Cổng TTĐT tỉnh {p}</option>' for p in PROVINCES)
MENU = build_menu()


def date_line(when):
    return f"{WEEKDAYS[when.weekday()]} - {when:%d/%m/%Y %H:%M}"


SNIPPETS = {}


def snippet(j):
    """A one-sentence teaser of article j, as listings and "latest news" blocks show it."""
    if j not in SNIPPETS:
        SNIPPETS[j] = sentence(random.Random(j * 31), 18, 36)
    return SNIPPETS[j]


def news_item(j, metas):
    title, when, _, path = metas[j]
    return (f'<div class="item clearfix"><a href="{path}" title="{title}"><img src="/assets/news/{when:%Y_%m}/{j}-thumb.jpg" '
            f'alt="{title}" width="120" class="img-thumbnail pull-left"></a><h4><a href="{path}" title="{title}">{title}</a></h4>'
            f'<span class="text-muted"><em class="fa fa-clock-o">&nbsp;</em> {date_line(when)}</span><p>{snippet(j)}</p></div>\n')


def news_block(rng, n, metas, room):
    """The "Tin tổng hợp" block: teasers of other articles, as many as fill `room` bytes."""
    items, size = [], 0
    while size < room - 200:
        item = news_item(rng.randint(1, n), metas)
        items.append(item)
        size += len(item.encode())
    return ('\t\t\t\t<div class="news_column panel panel-default"><div class="panel-heading">Tin tổng hợp</div><div class="panel-body">\n'
            + "".join(items) + "\t\t\t\t</div></div>\n")


def article_page(i, n, metas):
    title, when, (cat, cat_name), path = metas[i]
    rng = random.Random(i)
    lead = paragraph(rng)
    target = rng.randint(30_000, 80_000)
    same_cat = [j for j in range(i - 8 * 12, i + 8 * 12, 8) if 1 <= j <= n and j != i][:10]
    others = "".join(
        f'<li><em class="fa fa-angle-right">&nbsp;</em><a href="{article_path(j, metas[j])}" title="{metas[j][0]}">{metas[j][0]}</a> <em>({metas[j][1]:%d/%m/%Y})</em></li>\n'
        for j in same_cat)
    prng = random.Random(i // 50)
    popular = [(article_path(j, metas[j]), metas[j][0]) for j in prng.sample(range(1, n + 1), min(10, n))]
    top = head(title, lead[:160], path,
               f'\n\t\t<meta property="og:type" content="article">'
               f'\n\t\t<meta property="article:published_time" content="{when:%Y-%m-%dT%H:%M:00}+07:00">'
               f'\n\t\t<meta property="article:section" content="{cat_name}">')
    before = f"""		<section><div class="container" id="body"><div class="row">
			<div class="col-md-18">
				<ul class="breadcrumbs"><li><a href="/">Trang chủ</a></li><li><a href="/news/{cat}/">{cat_name}</a></li></ul>
				<div class="news_column panel panel-default">
					<div class="panel-body">
						<h1 class="title margin-bottom-lg">{title}</h1>
						<div class="row margin-bottom-lg">
							<div class="col-md-12"><span class="h5">{date_line(when)}</span></div>
							<div class="col-md-12"><ul class="list-inline text-right"><li><a class="dimgray" rel="nofollow" title="Gửi bài viết qua email" href="javascript:void(0);"><em class="fa fa-envelope fa-lg">&nbsp;</em></a></li><li><a class="dimgray" rel="nofollow" title="In ra" href="javascript:void(0);" onclick="nv_open_browse('/news/print/{slugify(title)}-{i}.html', '', 840, 500)"><em class="fa fa-print fa-lg">&nbsp;</em></a></li></ul></div>
						</div>
						<div class="clearfix">
							<figure class="article left pointer"><img alt="{title}" src="/assets/news/{when:%Y_%m}/{i}-thumb.jpg" width="183" class="img-thumbnail"></figure>
							<div class="hometext m-bottom">{lead}</div>
						</div>
						<div id="news-bodyhtml" class="bodytext margin-bottom-lg">
"""
    after = f"""						</div>
						<div class="margin-bottom-lg"><p class="h5 text-right"><strong>{rng.choice(AUTHORS)}</strong></p></div>
					</div>
				</div>
				<div class="news_column panel panel-default">
					<div class="panel-body">
						<div class="h5"><em class="fa fa-eye">&nbsp;</em> Đã xem: {rng.randint(100, 9000)}</div>
						<div class="h5 clearfix"><p class="pull-left">Tổng số điểm của bài viết là: 14 trong 3 đánh giá</p><div class="pull-right">Click để đánh giá bài viết</div></div>
					</div>
				</div>
				<div class="news_column panel panel-default">
					<div class="panel-body other-news">
						<p class="h3"><strong>Tin cùng chuyên mục</strong></p>
						<div class="clearfix"><ul class="related list-items">
{others}						</ul></div>
					</div>
				</div>
{{sidebar_fill}}			</div>
{sidebar(popular)}		</div></div></section>
{FOOTER}"""
    # Article text of a provincial portal: a few kB (the seed article has 3.4 kB); the rest
    # of a 30-80 kB page is template: menus, sidebar lists, scripts, footer.
    body, k = [], 0
    for _ in range(min(24, 3 + int(rng.expovariate(1 / 7)))):
        if k % 4 == 3:
            cap = sentence(rng, 6, 14)
            body.append(f'<figure class="image"><img alt="{cap}" src="/uploads/news/{when:%Y_%m}/{i}-{k}.jpg" '
                        f'width="800" height="533"><figcaption>{cap}</figcaption></figure>\n')
        else:
            body.append(f"<p>{paragraph(rng)}</p>\n")
        k += 1
    fill = target - len((top + before + after).encode()) - sum(len(b.encode()) for b in body)
    block = news_block(rng, n, metas, fill)
    after = after.replace("{sidebar_fill}", block)
    return path, top + before + "".join(body) + after


def listing_page(cat_index, page, pages, ids, metas, n):
    cat, cat_name = CATEGORIES[cat_index]
    base = f"/news/{cat}/"
    items = []
    for j in ids:
        title, when, _, _ = metas[j]
        rng = random.Random(j * 7919)
        rng.random()
        items.append(f"""<div class="news_column"><div class="panel panel-default"><div class="panel-body">
<a href="{article_path(j, metas[j])}" title="{title}"><img alt="{title}" src="/assets/news/{when:%Y_%m}/{j}-thumb.jpg" width="183" class="img-thumbnail pull-left imghome"></a>
<h3><a href="{article_path(j, metas[j])}" title="{title}">{title}</a></h3>
<div class="text-muted"><ul class="list-unstyled list-inline"><li><em class="fa fa-clock-o">&nbsp;</em> {date_line(when)}</li></ul></div>
<p>{sentence(rng, 20, 40)}</p></div></div></div>
""")
    def href(p):
        return base if p == 1 else f"{base}page-{p}"
    nav = [f'<li><a href="{href(1)}">1</a></li>']
    nav += [f'<li><a href="{href(p)}">{p}</a></li>' for p in range(max(2, page - 3), min(pages, page + 5) + 1)]
    if pages > 1:
        nav.append(f'<li><a href="{href(pages)}">{pages}</a></li>')
    popular = [(article_path(j, metas[j]), metas[j][0]) for j in random.Random(page).sample(range(1, n + 1), min(10, n))]
    title = cat_name if page == 1 else f"{cat_name} - Trang {page}"
    return head(title, cat_name, href(page)) + f"""		<section><div class="container" id="body"><div class="row">
			<div class="col-md-18">
				<ul class="breadcrumbs"><li><a href="/">Trang chủ</a></li><li><a href="{base}">{cat_name}</a></li></ul>
{"".join(items)}				<div class="text-center"><ul class="pagination">{"".join(nav)}</ul></div>
			</div>
{sidebar(popular)}		</div></div></section>
{FOOTER}"""


def home_page(metas, n):
    latest = range(n, max(0, n - 30), -1)
    items = "".join(f'<li><a href="{article_path(j, metas[j])}">{metas[j][0]}</a> <em>({metas[j][1]:%d/%m/%Y})</em></li>\n' for j in latest)
    cats = "".join(f'<li><a href="/news/{slug}/">{name}</a></li>' for slug, name in CATEGORIES)
    popular = [(article_path(j, metas[j]), metas[j][0]) for j in random.Random(0).sample(range(1, n + 1), min(10, n))]
    return head("Trang chủ", SITE, "/") + f"""		<section><div class="container" id="body"><div class="row">
			<div class="col-md-18"><ul class="list-items">{cats}</ul><ul class="related list-items">
{items}</ul></div>
{sidebar(popular)}		</div></div></section>
{FOOTER}"""


def write(root, path, text):
    full = os.path.join(root, path.lstrip("/"))
    if full.endswith("/"):
        full += "index.html"
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as f:
        f.write(text)
    return len(text.encode())


_JOB = {}


def write_articles(chunk):
    root, n, metas = _JOB["root"], _JOB["n"], _JOB["metas"]
    size = 0
    for i in chunk:
        path, html = article_page(i, n, metas)
        size += write(root, path, html)
    return size


def main():
    root, n = sys.argv[1], int(sys.argv[2])
    metas = [None] + [article_meta(i, n) for i in range(1, n + 1)]
    _JOB.update(root=root, n=n, metas=metas)
    chunks = [range(s, min(n, s + 499) + 1) for s in range(1, n + 1, 500)]
    # fork start method: workers inherit the metadata instead of receiving it pickled.
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        articles = sum(pool.map(write_articles, chunks))
    total = 0
    listings = 0
    for c in range(len(CATEGORIES)):
        ids = sorted((i for i in range(1, n + 1) if i % len(CATEGORIES) == c), reverse=True)
        pages = max(1, -(-len(ids) // PER_PAGE))
        for p in range(1, pages + 1):
            html = listing_page(c, p, pages, ids[(p - 1) * PER_PAGE:p * PER_PAGE], metas, n)
            total += write(root, f"/news/{CATEGORIES[c][0]}/" + ("" if p == 1 else f"page-{p}"), html)
            listings += 1
    total += write(root, "/", home_page(metas, n))
    write(root, "/robots.txt", "User-agent: *\nAllow: /\n")
    total += articles
    print(f"site: {n} articles ({articles / n / 1024:.1f} KiB mean), {listings} listings + home, "
          f"{total / 1e6:.0f} MB of HTML", file=sys.stderr)


if __name__ == "__main__":
    main()
