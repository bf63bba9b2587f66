/*
 * SPDX-License-Identifier: MIT
 *
 * sink.pyust.flamegraph: a self-contained SVG flame graph of the call tree,
 * widths by time (each calling context's exclusive time plus its callees'),
 * callees above callers, siblings in name order, Python frames in warm
 * colours and native ones in cool colours, the colour a hash of the name.
 * Each rectangle's tooltip gives the function, its file and its time. A small
 * script makes it interactive in a browser, as flamegraph.pl's are: a click
 * zooms on a frame, "Search" highlights the frames whose "name (file)" match
 * a regular expression and sums their share; ?s=RE and ?x=X&y=Y in the URL
 * do the same on load, so that a view can be bookmarked.
 */

#include <inttypes.h>
#include <stdlib.h>

#include "pyust-plugin.h"

#define WIDTH 1200.0
#define FRAME_H 16
#define TOP 36 /* room for the title */
#define MARGIN 10
#define CHAR_W 7.0 /* of 12px Verdana, about */
#define BOTTOM 24  /* room for the details line */

/* Kept in step with the constants above and the markup put_box() writes. */
static const char script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"(function () {\n"
	"var W = 1200, M = 10, CW = 7, EPS = 0.02, boxes = [], root = null;\n"
	"var unzoom = document.getElementById('unzoom'), details = "
	"document.getElementById('details');\n"
	"var matched = document.getElementById('matched'), query = {};\n"
	"function fit(name, w) {\n"
	"\tvar n = Math.floor((w - 6) / CW);\n"
	"\treturn n < 3 ? '' : name.length > n ? name.slice(0, n - 2) + '..' : name;\n"
	"}\n"
	"function put(b, x, w, cls) {\n"
	"\tb.g.style.display = '';\n"
	"\tb.g.setAttribute('class', cls);\n"
	"\tb.r.setAttribute('x', x.toFixed(2));\n"
	"\tb.r.setAttribute('width', w.toFixed(2));\n"
	"\tb.t.setAttribute('x', (x + 3).toFixed(2));\n"
	"\tb.t.textContent = fit(b.name, w);\n"
	"}\n"
	"function remember() {\n"
	"\tvar q = Object.keys(query).map(function (k) {\n"
	"\t\treturn k + '=' + encodeURIComponent(query[k]);\n"
	"\t}).join('&');\n"
	"\ttry { history.replaceState(null, '', q ? '?' + q : location.pathname); } catch (e) {}\n"
	"}\n"
	"function zoom(z) {\n"
	"\tvar k = (W - 2 * M) / z.w;\n"
	"\tboxes.forEach(function (b) {\n"
	"\t\tif (b.y > z.y && b.x <= z.x + EPS && b.x + b.w >= z.x + z.w - EPS)\n"
	"\t\t\tput(b, M, W - 2 * M, 'f parent');\n"
	"\t\telse if (b.y <= z.y && b.x >= z.x - EPS && b.x + b.w <= z.x + z.w + EPS)\n"
	"\t\t\tput(b, M + (b.x - z.x) * k, b.w * k, 'f');\n"
	"\t\telse\n"
	"\t\t\tb.g.style.display = 'none';\n"
	"\t});\n"
	"\tunzoom.style.display = z === root ? 'none' : '';\n"
	"\tif (z === root) { delete query.x; delete query.y; }\n"
	"\telse { query.x = z.x.toFixed(2); query.y = z.y.toFixed(1); }\n"
	"\tremember();\n"
	"}\n"
	"function search(re) {\n"
	"\tvar rx = null, spans = [], sum = 0, end = -1;\n"
	"\ttry { rx = re ? new RegExp(re) : null; } catch (e) { matched.textContent = 'Bad "
	"expression'; return; }\n"
	"\tboxes.forEach(function (b) {\n"
	"\t\tvar hit = rx !== null && rx.test(b.label);\n"
	"\t\tb.r.setAttribute('fill', hit ? 'rgb(230,0,230)' : b.fill);\n"
	"\t\tif (hit)\n"
	"\t\t\tspans.push([b.x, b.x + b.w]);\n"
	"\t});\n"
	"\t/* Callees lie inside their callers: the union of the spans is the share. */\n"
	"\tspans.sort(function (a, b) { return a[0] - b[0]; });\n"
	"\tspans.forEach(function (s) {\n"
	"\t\tif (s[1] > end) { sum += s[1] - Math.max(s[0], end); end = s[1]; }\n"
	"\t});\n"
	"\tmatched.textContent = rx === null ? '' : 'Matched: ' + (root ? 100 * sum / root.w : "
	"0).toFixed(2) + '%';\n"
	"\tif (rx === null) delete query.s; else query.s = re;\n"
	"\tremember();\n"
	"}\n"
	"Array.prototype.forEach.call(document.querySelectorAll('g.f'), function (g) {\n"
	"\tvar r = g.querySelector('rect'), t = g.querySelector('text');\n"
	"\tvar title = g.querySelector('title').textContent;\n"
	"\tvar b = { g: g, r: r, t: t, x: +r.getAttribute('x'), y: +r.getAttribute('y'),\n"
	"\t\tw: +r.getAttribute('width'), fill: r.getAttribute('fill'),\n"
	"\t\tname: g.getAttribute('data-n') || t.textContent,\n"
	"\t\tlabel: title.replace(/, [0-9.]+ ms, [0-9.]+%$/, '') };\n"
	"\tif (!root) root = b;\n"
	"\tboxes.push(b);\n"
	"\tg.addEventListener('click', function () { zoom(b); });\n"
	"\tg.addEventListener('mouseover', function () { details.textContent = title; });\n"
	"\tg.addEventListener('mouseout', function () { details.textContent = ''; });\n"
	"});\n"
	"unzoom.addEventListener('click', function () { if (root) zoom(root); });\n"
	"document.getElementById('search').addEventListener('click', function () {\n"
	"\tvar re = prompt('Highlight the frames whose \"name (file)\" match (empty: none)', "
	"query.s || '');\n"
	"\tif (re !== null) search(re);\n"
	"});\n"
	"new URLSearchParams(location.search).forEach(function (v, k) { query[k] = v; });\n"
	"var at = boxes.filter(function (b) {\n"
	"\treturn b.x.toFixed(2) === query.x && b.y.toFixed(1) === query.y;\n"
	"});\n"
	"if (at.length) zoom(at[0]); else { delete query.x; delete query.y; }\n"
	"if (query.s) search(query.s);\n"
	"})();\n"
	"]]></script>\n";

struct flamegraph {
	struct pyust_sink base; /* first: the core frees it */
};

struct box {
	const struct pyust_node *node; /* NULL: the root, "all" */
	struct box **kids;
	uint32_t nkids, depth;
	uint64_t total;
	double x;
};

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fputs("babeltrace2 pyust plugin: out of memory\n", stderr);
		abort();
	}
	return p;
}

static int by_name(const void *a, const void *b)
{
	const struct pyust_func *x = (*(struct box *const *)a)->node->func;
	const struct pyust_func *y = (*(struct box *const *)b)->node->func;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->file ? x->file : "", y->file ? y->file : "");
}

static int utf8_seq(const unsigned char *p)
{
	int n = *p < 0x80	      ? 1
		: (*p & 0xe0) == 0xc0 ? 2
		: (*p & 0xf0) == 0xe0 ? 3
		: (*p & 0xf8) == 0xf0 ? 4
				      : 0;

	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n == 2 && *p < 0xc2 ? 0 : n;
}

/*
 * Text for XML: escapes, '?' for control bytes, U+FFFD for what is not
 * UTF-8; at most max characters, the last two ".." when cut.
 */
static void put_xml(struct pyust_buf *b, const char *str, size_t max)
{
	const unsigned char *p = (const unsigned char *)str;
	size_t chars = 0, len = 0;

	for (const unsigned char *q = p; *q; len++)
		q += utf8_seq(q) ? utf8_seq(q) : 1;
	if (len > max)
		max = max > 2 ? max - 2 : 0;
	for (; *p && chars < max; chars++) {
		int n = utf8_seq(p);

		if (n == 0) {
			pyust_w_mem(b, "\xef\xbf\xbd", 3);
			p++;
		} else if (n > 1) {
			pyust_w_mem(b, (const char *)p, (size_t)n);
			p += n;
		} else if (*p == '&') {
			pyust_w_str(b, "&amp;", 0), p++;
		} else if (*p == '<') {
			pyust_w_str(b, "&lt;", 0), p++;
		} else if (*p == '>') {
			pyust_w_str(b, "&gt;", 0), p++;
		} else if (*p == '"') {
			pyust_w_str(b, "&quot;", 0), p++;
		} else {
			pyust_w_char(b, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
			p++;
		}
	}
	if (*p)
		pyust_w_str(b, "..", 0);
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void put_box(struct pyust_buf *b, const struct box *x, double scale, uint32_t max_depth,
		    uint64_t total)
{
	const struct pyust_func *f = x->node ? x->node->func : NULL;
	const char *name = f ? f->name : "all";
	double w = (double)x->total * scale;
	double y = TOP + (double)(max_depth - x->depth) * FRAME_H;
	uint32_t h = hash(name);
	double v1 = (h & 0xff) / 255.0, v2 = (h >> 8 & 0xff) / 255.0;
	int r, g, bl;

	if (!f || f->kind == PYUST_FUNC_PY) /* hot */
		r = 205 + (int)(50 * v1), g = (int)(230 * v2), bl = (int)(55 * v1);
	else /* aqua */
		r = 50 + (int)(60 * v1), g = 165 + (int)(55 * v2), bl = 165 + (int)(55 * v2);
	size_t fits = w > 6 ? (size_t)((w - 6) / CHAR_W) : 0;

	if (fits < 3)
		fits = 0;
	/* The whole name for the script when the label cannot hold it. */
	if (strlen(name) > fits) {
		pyust_w_str(b, "<g class=\"f\" data-n=\"", 0);
		put_xml(b, name, SIZE_MAX);
		pyust_w_str(b, "\"><title>", 0);
	} else {
		pyust_w_str(b, "<g class=\"f\"><title>", 0);
	}
	put_xml(b, name, SIZE_MAX);
	if (f && f->kind == PYUST_FUNC_PY) {
		pyust_w_str(b, " (", 0);
		put_xml(b, f->file, SIZE_MAX);
		pyust_w_char(b, ')');
	}
	pyust_w_printf(b, ", %.3f ms, %.2f%%</title>", (double)x->total / 1e6,
		       total ? 100.0 * (double)x->total / (double)total : 0.0);
	pyust_w_printf(
		b,
		"<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"rgb(%d,%d,%d)\" "
		"rx=\"2\"/>",
		MARGIN + x->x * scale, y, w, FRAME_H - 1, r, g, bl);
	/* A name, or its start, where three characters fit; empty otherwise. */
	pyust_w_printf(b, "<text x=\"%.2f\" y=\"%.1f\">", MARGIN + x->x * scale + 3,
		       y + FRAME_H - 5);
	if (fits)
		put_xml(b, name, fits);
	pyust_w_str(b, "</text></g>\n", 0);
}

static struct box *caller(struct box *boxes, struct box *root, uint32_t i)
{
	const struct pyust_node *p = boxes[i].node->parent;

	return p ? &boxes[p->index] : root;
}

/* The callees side by side in name order, from the caller's x. */
static void place(struct box *b)
{
	double x = b->x;

	if (b->nkids > 1)
		qsort(b->kids, b->nkids, sizeof(*b->kids), by_name);
	for (uint32_t i = 0; i < b->nkids; i++) {
		b->kids[i]->x = x;
		x += (double)b->kids[i]->total;
	}
}

static void fg_end(struct pyust_sink *s)
{
	struct pyust_buf *out = &s->ob;
	struct pyust_node *nd;
	struct box *boxes, *root;
	uint32_t n = 0, i, max_depth = 0;
	double scale;
	int height;

	for (nd = s->all_nodes; nd; nd = nd->all_next)
		n++;
	boxes = xmalloc((n + 1) * sizeof(*boxes));
	root = &boxes[n];
	i = 0;
	for (nd = s->all_nodes; nd; nd = nd->all_next, i++) {
		nd->index = i;
		boxes[i].node = nd;
		boxes[i].total = nd->match ? nd->excl_ns : 0;
	}
	/* Newest first: a node's callees come before it, its total is whole when passed up. */
	for (i = 0; i < n; i++) {
		struct box *up = caller(boxes, root, i);

		up->total += boxes[i].total;
		up->nkids += boxes[i].total != 0;
	}
	for (i = 0; i <= n; i++) {
		boxes[i].kids = xmalloc(boxes[i].nkids * sizeof(*boxes[i].kids));
		boxes[i].nkids = 0;
	}
	/* Oldest first: callers before callees. */
	for (i = n; i-- > 0;) {
		struct box *up = caller(boxes, root, i);

		boxes[i].depth = up->depth + 1;
		if (boxes[i].total) {
			up->kids[up->nkids++] = &boxes[i];
			if (boxes[i].depth > max_depth)
				max_depth = boxes[i].depth;
		}
	}
	place(root);
	for (i = n; i-- > 0;)
		if (boxes[i].total)
			place(&boxes[i]);

	height = TOP + (int)(max_depth + 1) * FRAME_H + BOTTOM;
	scale = root->total ? (WIDTH - 2 * MARGIN) / (double)root->total : 0;
	pyust_w_printf(out,
		       "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		       "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		       "xmlns=\"http://www.w3.org/2000/svg\">\n"
		       "<style>text { font-family: Verdana, sans-serif; font-size: 12px; } "
		       ".title { font-size: 17px; text-anchor: middle; } "
		       "g.f, .ctl { cursor: pointer; } g.parent { opacity: 0.5; } "
		       ".ctl { fill: #1a4f9c; }</style>\n"
		       "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f8f8f8\"/>\n"
		       "<text class=\"title\" x=\"%d\" y=\"24\">%s</text>\n"
		       "<text id=\"unzoom\" class=\"ctl\" x=\"%d\" y=\"24\" "
		       "style=\"display: none\">Reset zoom</text>\n"
		       "<text id=\"search\" class=\"ctl\" x=\"%d\" y=\"24\" "
		       "text-anchor=\"end\">Search</text>\n"
		       "<text id=\"details\" x=\"%d\" y=\"%d\"></text>\n"
		       "<text id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"></text>\n",
		       (int)WIDTH, height, (int)WIDTH, height, (int)WIDTH / 2,
		       root->total ? "Flame graph" : "Flame graph: no call in the trace", MARGIN,
		       (int)WIDTH - MARGIN, MARGIN, height - 8, (int)WIDTH - MARGIN, height - 8);
	if (root->total) {
		put_box(out, root, scale, max_depth, root->total);
		for (i = n; i-- > 0;)
			if (boxes[i].total && (double)boxes[i].total * scale >= 0.1)
				put_box(out, &boxes[i], scale, max_depth, root->total);
	}
	pyust_w_mem(out, script, sizeof(script) - 1);
	pyust_w_str(out, "</svg>\n", 0);
	pyust_buf_flush(out);
	fflush(s->out);
	fprintf(stderr, "sink.pyust.flamegraph: %" PRIu64 " ns in %" PRIu32 " calling contexts\n",
		root->total, n);
	pyust_print_notes(s, stderr, "sink.pyust.flamegraph: ");
	for (i = 0; i <= n; i++)
		free(boxes[i].kids);
	free(boxes);
}

static const struct pyust_sink_ops flamegraph_ops = {
	.end = fg_end,
};

bt_component_class_initialize_method_status
pyust_flamegraph_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
		      const bt_value *params, void *data)
{
	struct flamegraph *fg = calloc(1, sizeof(*fg));

	(void)config;
	(void)data;
	if (!fg)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	fg->base.want_tree = true;
	return pyust_sink_init(self, params, "sink.pyust.flamegraph",
			       PYUST_P_NAME | PYUST_P_FILE | PYUST_P_PID | PYUST_P_TID,
			       &flamegraph_ops, &fg->base);
}
