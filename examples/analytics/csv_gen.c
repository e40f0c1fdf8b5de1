/* Writes a deterministic CSV of `rows` rows "id,key,x,y" to a file (or
 * stdout): the benchmark's and the examples' data.
 *
 *   csv_gen OUT.csv [ROWS=10000000] [KEYS=100] [SEED=1]
 *
 * id is the row number, key = hash(id) % KEYS, x = 10 * key/KEYS + a
 * uniform in [0, 100) and y a uniform in [0, 100), both with 6 decimals.
 * The same arguments give the same bytes on every machine: the numbers
 * come from a counter-based hash and are printed as integers, not with
 * printf("%f"). 10 million rows make about 305 MB.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t
mix64(uint64_t z)
{
	z += 0x9E3779B97F4A7C15u;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* Appends v / 1e6 with 6 decimals. */
static char *
put_fixed6(char *p, uint64_t v)
{
	char tmp[32];
	int n = 0;
	uint64_t ip = v / 1000000, fp = v % 1000000;
	do
		tmp[n++] = (char)('0' + ip % 10);
	while ((ip /= 10) != 0);
	while (n)
		*p++ = tmp[--n];
	*p++ = '.';
	for (int i = 5; i >= 0; i--) {
		p[i] = (char)('0' + fp % 10);
		fp /= 10;
	}
	return p + 6;
}

static char *
put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*p++ = tmp[--n];
	return p;
}

int
main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: csv_gen OUT.csv|- [ROWS] [KEYS] [SEED]\n");
		return 2;
	}
	uint64_t rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000u;
	uint64_t keys = argc > 3 ? strtoull(argv[3], NULL, 10) : 100u;
	uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1u;
	if (keys == 0)
		keys = 1;
	FILE *f = strcmp(argv[1], "-") == 0 ? stdout : fopen(argv[1], "wb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	static char buf[1 << 16];
	char *p = buf;
	memcpy(p, "id,key,x,y\n", 11);
	p += 11;
	for (uint64_t i = 0; i < rows; i++) {
		uint64_t h = mix64(seed * 0xD1B54A32D192ED03u + i);
		uint64_t k = h % keys;
		uint64_t x = 10000000u * k / keys + mix64(h) % 100000000u;
		uint64_t y = mix64(h ^ 0x5555) % 100000000u;
		p = put_u64(p, i);
		*p++ = ',';
		p = put_u64(p, k);
		*p++ = ',';
		p = put_fixed6(p, x);
		*p++ = ',';
		p = put_fixed6(p, y);
		*p++ = '\n';
		if (p - buf > (long)sizeof buf - 128) {
			if (fwrite(buf, 1, (size_t)(p - buf), f) != (size_t)(p - buf))
				return perror("write"), 1;
			p = buf;
		}
	}
	if (fwrite(buf, 1, (size_t)(p - buf), f) != (size_t)(p - buf) ||
	    (f != stdout && fclose(f) != 0))
		return perror("write"), 1;
	return 0;
}
