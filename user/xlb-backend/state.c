/* state.c - xlb-backend's state file per interface (JSON, written atomically) and its lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "addr.h"
#include "backend.h"
#include "files.h"

static int state_path(const char *ifname, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.json", be_run_dir(), ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int be_lock(void)
{
	char path[512];
	int fd, err;

	err = xlb_mkdir_p(be_run_dir(), 0700);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/lock", be_run_dir());
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static const char *mode_names[] = {"native", "generic", "dsr-l2"};

const char *be_mode_name(enum be_mode m)
{
	return m <= BE_MODE_DSR_L2 ? mode_names[m] : "?";
}

static int copy_str(char *dst, size_t len, json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) >= len)
		return -EINVAL;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* Restoring writes these back: only our three sysctls' directory, only numbers. */
static bool sysctl_ok(const struct be_sysctl *s)
{
	return !strncmp(s->path, "net/ipv4/conf/", 14) && !strstr(s->path, "..") && s->was[0] &&
	       strspn(s->was, "0123456789") == strlen(s->was) && s->set[0] &&
	       strspn(s->set, "0123456789") == strlen(s->set);
}

static int parse_state(json_t *j, struct be_state *st)
{
	const char *mode = json_string_value(json_object_get(j, "mode"));
	json_t *a, *e, *id = json_object_get(j, "prog_id");
	size_t i;

	memset(st, 0, sizeof(*st));
	if (!json_is_object(j) ||
	    copy_str(st->ifname, sizeof(st->ifname), json_object_get(j, "interface")) || !mode ||
	    !json_is_boolean(json_object_get(j, "host")) ||
	    !json_is_boolean(json_object_get(j, "sysctls_applied")) || !json_is_integer(id) ||
	    json_integer_value(id) < 0 || json_integer_value(id) > UINT32_MAX ||
	    !json_is_array(json_object_get(j, "sysctls")) ||
	    !json_is_array(json_object_get(j, "vips")))
		return -EINVAL;
	for (i = 0; i <= BE_MODE_DSR_L2 && strcmp(mode, mode_names[i]); i++)
		;
	if (i > BE_MODE_DSR_L2)
		return -EINVAL;
	st->mode = i;
	st->host = json_is_true(json_object_get(j, "host"));
	st->prog_id = json_integer_value(id);
	st->sysctls_applied = json_is_true(json_object_get(j, "sysctls_applied"));
	a = json_object_get(j, "sysctls");
	json_array_foreach(a, i, e) {
		struct be_sysctl *s = &st->sysctl[st->n_sysctl];

		if (st->n_sysctl == BE_MAX_SYSCTLS ||
		    copy_str(s->path, sizeof(s->path), json_object_get(e, "path")) ||
		    copy_str(s->was, sizeof(s->was), json_object_get(e, "was")) ||
		    copy_str(s->set, sizeof(s->set), json_object_get(e, "set")) || !sysctl_ok(s))
			return -EINVAL;
		st->n_sysctl++;
	}
	a = json_object_get(j, "vips");
	json_array_foreach(a, i, e) {
		struct be_vip *v = &st->vip[st->n_vip];
		const char *s = json_string_value(json_object_get(e, "address"));

		if (st->n_vip == BE_MAX_VIPS || !s ||
		    xlb_parse_addr(s, &v->addr, &v->family, NULL, 0))
			return -EINVAL;
		if (!json_is_boolean(json_object_get(e, "added_to_lo")))
			return -EINVAL;
		v->added_addr = json_is_true(json_object_get(e, "added_to_lo"));
		st->n_vip++;
	}
	return 0;
}

int be_state_load(const char *ifname, struct be_state *st)
{
	char path[512];
	json_error_t jerr;
	json_t *j;
	int err;

	err = state_path(ifname, path, sizeof(path));
	if (err)
		return err;
	if (access(path, F_OK))
		return -errno;
	j = json_load_file(path, 0, &jerr);
	if (!j)
		return be_fail(-EINVAL, "cannot read the state file %s: %s", path, jerr.text);
	err = parse_state(j, st);
	json_decref(j);
	/* The file name is the key: a file renamed by hand is not trusted either. */
	if (!err && strcmp(st->ifname, ifname))
		err = -EINVAL;
	if (err)
		return be_fail(err, "the state file %s is not one of xlb-backend's", path);
	return 0;
}

int be_state_save(const struct be_state *st)
{
	char path[512], tmp[600], text[XLB_ADDRSTRLEN];
	json_t *j, *a;
	FILE *f;
	int err, i;

	err = state_path(st->ifname, path, sizeof(path));
	if (err)
		return err;
	j = json_pack("{s:s, s:s, s:b, s:I, s:b}", "interface", st->ifname, "mode",
		      be_mode_name(st->mode), "host", st->host, "prog_id", (json_int_t)st->prog_id,
		      "sysctls_applied", st->sysctls_applied);
	a = json_array();
	for (i = 0; i < st->n_sysctl; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "path", st->sysctl[i].path,
						   "was", st->sysctl[i].was, "set",
						   st->sysctl[i].set));
	json_object_set_new(j, "sysctls", a);
	a = json_array();
	for (i = 0; i < st->n_vip; i++) {
		xlb_format_addr(&st->vip[i].addr, st->vip[i].family, text, sizeof(text));
		json_array_append_new(a, json_pack("{s:s, s:b}", "address", text, "added_to_lo",
						   st->vip[i].added_addr));
	}
	json_object_set_new(j, "vips", a);

	/* Temp file, fsync, rename: a crash leaves the old state or the new one. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		err = -errno;
		goto out;
	}
	if (json_dumpf(j, f, JSON_INDENT(1) | JSON_SORT_KEYS) || fputc('\n', f) == EOF ||
	    fflush(f) || fsync(fileno(f))) {
		err = -EIO;
		fclose(f);
		unlink(tmp);
		goto out;
	}
	fclose(f);
	if (rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
	}
out:
	json_decref(j);
	if (err)
		be_fail(err, "cannot write the state file %s: %s", path, strerror(-err));
	return err;
}

int be_state_remove(const char *ifname)
{
	char path[512];
	int err = state_path(ifname, path, sizeof(path));

	if (err)
		return err;
	return unlink(path) ? -errno : 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int be_state_list(char names[][IF_NAMESIZE], int max)
{
	DIR *d = opendir(be_run_dir());
	struct dirent *e;
	int n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);

		if (len <= 5 || len - 5 >= IF_NAMESIZE || strcmp(e->d_name + len - 5, ".json"))
			continue;
		memcpy(names[n], e->d_name, len - 5);
		names[n][len - 5] = '\0';
		n++;
	}
	closedir(d);
	qsort(names, n, IF_NAMESIZE, cmp_names);
	return n;
}
