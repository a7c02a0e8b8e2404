// SPDX-License-Identifier: MIT
/*
 * The read-only floor of the benchmark: the least work any pcap analyser
 * must do. It maps the capture, walks every record header and reads the
 * Ethernet, IPv4 or IPv6 and TCP header fields a session tracker needs
 * (addresses, ports, sequence numbers, flags), folding them into an
 * accumulator that is printed at the end so the compiler cannot drop the
 * loads. No hashing, no state, no allocation: whatever tcpguard spends above
 * this number is the cost of its own logic, and the ratio analyze/floor is
 * the figure of merit that bench/run.sh reports.
 *
 * Classic pcap only, in either byte order, with microsecond (a1b2c3d4) or
 * nanosecond (a1b23c4d) timestamps. Anything else (pcapng, unknown magic, a
 * link type other than Ethernet, a record running past the end of the file)
 * is refused with a message and a non-zero exit. VLAN tags are skipped.
 *
 * Output is one line of key=value pairs on stdout, so scripts can parse it:
 *   packets=N tcp=N bytes=N seconds=S mpps=X mbps=Y acc=0x...
 * where seconds covers open, mmap, the walk and munmap, and mbps is file
 * bytes per second in 10^6 bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct floor_result {
	uint64_t packets, tcp, bytes, acc;
};

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t rd32(const uint8_t *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* Header fields of one frame into the accumulator; returns 1 if TCP. */
static inline int touch_frame(const uint8_t *f, uint32_t len, uint64_t *acc)
{
	const uint8_t *l3, *th, *end = f + len;
	uint16_t et;
	uint64_t a;

	if (len < 14)
		return 0;
	et = be16(f + 12);
	l3 = f + 14;
	while ((et == 0x8100 || et == 0x88a8) && l3 + 4 <= end) {
		et = be16(l3 + 2);
		l3 += 4;
	}
	if (et == 0x0800) {
		if (l3 + 20 > end || l3[9] != 6)
			return 0;
		a = (uint64_t)be32(l3 + 12) << 32 ^ be32(l3 + 16) ^ l3[8];
		th = l3 + (l3[0] & 0x0f) * 4;
	} else if (et == 0x86dd) {
		if (l3 + 40 > end || l3[6] != 6)
			return 0;
		a = (uint64_t)be32(l3 + 20) << 32 ^ be32(l3 + 36) ^ l3[7];
		th = l3 + 40;
	} else {
		return 0;
	}
	if (th + 20 > end)
		return 0;
	a ^= (uint64_t)be16(th) << 48 ^ (uint64_t)be16(th + 2) << 32 ^
	     be32(th + 4) ^ (uint64_t)be32(th + 8) << 16 ^
	     (uint64_t)th[13] << 56 ^ be16(th + 14);
	*acc = (*acc ^ a) * 0x100000001b3ULL;
	return 1;
}

static int walk(const uint8_t *p, size_t size, struct floor_result *res,
		const char *path)
{
	const uint8_t *end = p + size, *r;
	uint32_t magic, linktype;
	uint64_t acc = 0, tcp = 0, packets = 0;
	int swap;

	if (size < 24) {
		fprintf(stderr, "floor: %s: too short for a pcap header\n", path);
		return -EINVAL;
	}
	memcpy(&magic, p, 4);
	switch (magic) {
	case 0xa1b2c3d4:
		swap = 0;
		break;
	case 0xd4c3b2a1:
		swap = 1;
		break;
	case 0xa1b23c4d:	/* nanosecond timestamps */
		swap = 0;
		break;
	case 0x4d3cb2a1:
		swap = 1;
		break;
	case 0x0a0d0d0a:
		fprintf(stderr, "floor: %s: pcapng is not supported, "
			"only classic pcap\n", path);
		return -EINVAL;
	default:
		fprintf(stderr, "floor: %s: not a classic pcap file "
			"(magic 0x%08x)\n", path, magic);
		return -EINVAL;
	}
	linktype = rd32(p + 20, swap) & 0x0fffffff;
	if (linktype != 1) {
		fprintf(stderr, "floor: %s: link type %u, only Ethernet (1) "
			"is supported\n", path, linktype);
		return -EINVAL;
	}

	r = p + 24;
	while (r < end) {
		uint32_t caplen, ts;

		if (end - r < 16) {
			fprintf(stderr, "floor: %s: truncated record header "
				"at offset %zu\n", path, (size_t)(r - p));
			return -EINVAL;
		}
		caplen = rd32(r + 8, swap);
		ts = rd32(r + 4, swap);
		if (caplen > (size_t)(end - r) - 16) {
			fprintf(stderr, "floor: %s: record at offset %zu runs "
				"past the end of the file\n", path,
				(size_t)(r - p));
			return -EINVAL;
		}
		acc += ts;
		tcp += (uint64_t)touch_frame(r + 16, caplen, &acc);
		packets++;
		r += 16 + caplen;
	}
	res->packets = packets;
	res->tcp = tcp;
	res->bytes = size;
	res->acc = acc;
	return 0;
}

static int floor_file(const char *path, struct floor_result *res)
{
	struct stat st;
	void *m;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (st.st_size == 0) {
		close(fd);
		return walk(NULL, 0, res, path);
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		rc = -errno;
		fprintf(stderr, "floor: %s: mmap: %s\n", path, strerror(errno));
		return rc;
	}
	madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	rc = walk(m, (size_t)st.st_size, res, path);
	munmap(m, (size_t)st.st_size);
	return rc;
}

int main(int argc, char **argv)
{
	struct floor_result res = { 0 };
	struct timespec t0, t1;
	double s;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: floor FILE.pcap\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (floor_file(argv[1], &res))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (s <= 0)
		s = 1e-9;
	printf("packets=%llu tcp=%llu bytes=%llu seconds=%.6f mpps=%.2f "
	       "mbps=%.1f acc=0x%016llx\n",
	       (unsigned long long)res.packets, (unsigned long long)res.tcp,
	       (unsigned long long)res.bytes, s, res.packets / s / 1e6,
	       res.bytes / s / 1e6, (unsigned long long)res.acc);
	return 0;
}
