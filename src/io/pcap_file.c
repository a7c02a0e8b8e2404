// SPDX-License-Identifier: MIT
/*
 * Capture files through libpcap: classic pcap in either byte order and
 * time resolution, and pcapng. Timestamps are asked for in nanoseconds so
 * nothing is lost from nanosecond files. The BPF filter is compiled for
 * the file's link type and applied by libpcap before we see a frame.
 *
 * libpcap reports a cut-off last record as an error after delivering every
 * complete one; we pass that on as an error so the user is told, while all
 * frames read before it have already been processed.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pcap_frame.h"
#include "source.h"
#include "tcpguard/decode.h"

struct pcap_file {
	pcap_t *p;
	FILE *fp;
	uint64_t size;
	uint64_t num;
};

static int pf_next(struct tg_source *src, struct tg_frame *f)
{
	struct pcap_file *pf = src->priv;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(pf->p, &h, &data);

	if (rc == 1) {
		tg_frame_from_pcap(f, h, data, ++pf->num, src->link);
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	snprintf(src->err, sizeof(src->err), "%s: after frame %llu: %s",
		 src->path, (unsigned long long)pf->num, pcap_geterr(pf->p));
	return -EIO;
}

static void pf_progress(struct tg_source *src, uint64_t *done, uint64_t *total)
{
	struct pcap_file *pf = src->priv;
	long pos = pf->fp ? ftell(pf->fp) : -1;

	*done = pos > 0 ? (uint64_t)pos : 0;
	*total = pf->size;
}

static void pf_close(struct tg_source *src)
{
	struct pcap_file *pf = src->priv;

	if (pf) {
		if (pf->p)
			pcap_close(pf->p);
		free(pf);
	}
	src->priv = NULL;
}

static const struct tg_source_ops pcap_file_ops = {
	.name = "pcap-file",
	.next = pf_next,
	.progress = pf_progress,
	.close = pf_close,
};

static int pf_setup(struct tg_source *src, struct pcap_file *pf, const char *filter);

int tg_source_open_file(struct tg_source *src, const char *path,
			const char *filter)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_file *pf;
	struct stat st;
	int rc = 0;

	rc = tg_source_open_mmap(src, path, filter);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	memset(src, 0, sizeof(*src));
	src->path = path;
	src->ops = &pcap_file_ops;
	pf = calloc(1, sizeof(*pf));
	if (!pf) {
		rc = -ENOMEM;
		snprintf(src->err, sizeof(src->err), "%s: out of memory", path);
		goto out;
	}
	src->priv = pf;
	if (strcmp(path, "-") != 0) {
		if (stat(path, &st) != 0) {
			rc = -errno;
			snprintf(src->err, sizeof(src->err), "%s: %s", path,
				 strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = -EISDIR;
			snprintf(src->err, sizeof(src->err), "%s: is a directory", path);
			goto out;
		}
		pf->size = (uint64_t)st.st_size;
	}
	pf->p = pcap_open_offline_with_tstamp_precision(path,
			PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pf->p) {
		rc = -EINVAL;
		snprintf(src->err, sizeof(src->err), "%s: not a readable capture: %s",
			 path, errbuf);
		goto out;
	}
	rc = pf_setup(src, pf, filter);
out:
	if (rc)
		pf_close(src);
	return rc;
}

int tg_source_open_stream(struct tg_source *src, const char *name, FILE *fp,
			  const char *filter)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_file *pf = calloc(1, sizeof(*pf));
	int rc;

	memset(src, 0, sizeof(*src));
	src->path = name;
	src->ops = &pcap_file_ops;
	if (!pf) {
		snprintf(src->err, sizeof(src->err), "%s: out of memory", name);
		fclose(fp);
		return -ENOMEM;
	}
	src->priv = pf;
	/* pcap_close closes @fp once libpcap took it; a refused one is ours. */
	pf->p = pcap_fopen_offline_with_tstamp_precision(fp,
			PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pf->p) {
		fclose(fp);
		snprintf(src->err, sizeof(src->err), "%s: not a readable capture: %s",
			 name, errbuf);
		pf_close(src);
		return -EINVAL;
	}
	rc = pf_setup(src, pf, filter);
	if (rc)
		pf_close(src);
	return rc;
}

/* Link type check and filter for a freshly opened pf->p. */
static int pf_setup(struct tg_source *src, struct pcap_file *pf, const char *filter)
{
	const char *path = src->path;
	int rc = 0;

	pf->fp = pcap_file(pf->p);
	src->link = pcap_datalink(pf->p);
	if (!tg_decode_link_supported(src->link)) {
		const char *n = pcap_datalink_val_to_name(src->link);

		rc = -ENOTSUP;
		snprintf(src->err, sizeof(src->err),
			 "%s: unsupported link type %d (%s)", path, src->link,
			 n ? n : "unknown");
		goto out;
	}
	if (filter && *filter) {
		struct bpf_program prog;

		if (pcap_compile(pf->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			rc = -EINVAL;
			snprintf(src->err, sizeof(src->err), "bad filter '%s': %s",
				 filter, pcap_geterr(pf->p));
			goto out;
		}
		rc = pcap_setfilter(pf->p, &prog);
		pcap_freecode(&prog);
		if (rc != 0) {
			rc = -EINVAL;
			snprintf(src->err, sizeof(src->err), "filter '%s': %s",
				 filter, pcap_geterr(pf->p));
			goto out;
		}
	}
out:
	return rc;
}
