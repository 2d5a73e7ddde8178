// SPDX-License-Identifier: GPL-2.0
/* Unit tests: fusebpfd command line parsing and served-subtree relations. */
#include <string.h>

#include "fusebpf/options.h"
#include "unit.h"

static int parse(struct fusebpf_options *o, char *err, const char *a1,
		 const char *a2, const char *a3, const char *a4,
		 const char *a5)
{
	char *argv[] = { "fusebpfd", (char *)a1, (char *)a2, (char *)a3,
			 (char *)a4, (char *)a5, NULL };
	int argc = 1;

	while (argv[argc])
		argc++;
	return fusebpf_options_parse(o, argc, argv, err, 256);
}

static void test_basic(void)
{
	struct fusebpf_options o;
	char err[256];

	CHECK(parse(&o, err, "/b", "/m", NULL, NULL, NULL) == 0);
	CHECK(!strcmp(o.backing, "/b") && !strcmp(o.mountpoint, "/m"));
	CHECK(!o.foreground && !o.debug && o.mode == FUSEBPF_MODE_AUTO);
	CHECK(o.instance[0] == '\0' && o.nr_served == 0);
	fusebpf_options_free(&o);

	CHECK(parse(&o, err, "/b", "-f", "/m", "-o",
		    "mode=passthrough,instance=x1") == 0);
	CHECK(o.foreground && o.mode == FUSEBPF_MODE_PASSTHROUGH);
	CHECK(!strcmp(o.instance, "x1"));
	fusebpf_options_free(&o);

	CHECK(parse(&o, err, "-d", "/b", "/m", "-omode=bpf", NULL) == 0);
	CHECK(o.debug && o.foreground && o.mode == FUSEBPF_MODE_BPF);
	fusebpf_options_free(&o);

	CHECK(parse(&o, err, "/b", "/m", "-o", "mode=userspace", "-h") == 0);
	CHECK(o.help);
	fusebpf_options_free(&o);
}

static void test_errors(void)
{
	struct fusebpf_options o;
	char err[256];

	CHECK(parse(&o, err, "/b", NULL, NULL, NULL, NULL) == -1);
	CHECK(strstr(err, "usage") != NULL);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "bogus", NULL) == -1);
	CHECK(!strcmp(err, "unknown option 'bogus'"));
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "mode=fast", NULL) == -1);
	CHECK(strstr(err, "unknown mode 'fast'") != NULL);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "mode=auto", NULL) == -1);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", NULL, NULL) == -1);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "/x", NULL, NULL) == -1);
	CHECK(strstr(err, "unexpected argument '/x'") != NULL);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-z", NULL, NULL) == -1);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "instance=a/b", NULL) == -1);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "instance=..", NULL) == -1);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "served=../etc", NULL) == -1);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "served=/", NULL) == -1);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "served=", NULL) == -1);
	fusebpf_options_free(&o);
}

static void test_served(void)
{
	struct fusebpf_options o;
	char err[256];

	CHECK(parse(&o, err, "/b", "/m", "-o",
		    "served=//Android/data/./app/:DCIM", NULL) == 0);
	CHECK(o.nr_served == 2);
	CHECK(!strcmp(o.served[0], "Android/data/app"));
	CHECK(!strcmp(o.served[1], "DCIM"));
	CHECK(fusebpf_served_relation(&o, "") == FUSEBPF_SERVED_ANCESTOR);
	CHECK(fusebpf_served_relation(&o, "Android") == FUSEBPF_SERVED_ANCESTOR);
	CHECK(fusebpf_served_relation(&o, "Android/data") ==
	      FUSEBPF_SERVED_ANCESTOR);
	CHECK(fusebpf_served_relation(&o, "Android/data/app") ==
	      FUSEBPF_SERVED_INSIDE);
	CHECK(fusebpf_served_relation(&o, "Android/data/app/x/y") ==
	      FUSEBPF_SERVED_INSIDE);
	CHECK(fusebpf_served_relation(&o, "Android/data/apple") ==
	      FUSEBPF_SERVED_NONE);
	CHECK(fusebpf_served_relation(&o, "Android/obb") == FUSEBPF_SERVED_NONE);
	CHECK(fusebpf_served_relation(&o, "DCIM/a.jpg") == FUSEBPF_SERVED_INSIDE);
	CHECK(fusebpf_served_relation(&o, "DCIMX") == FUSEBPF_SERVED_NONE);
	fusebpf_options_free(&o);

	CHECK(parse(&o, err, "/b", "/m", NULL, NULL, NULL) == 0);
	CHECK(fusebpf_served_relation(&o, "") == FUSEBPF_SERVED_NONE);
	fusebpf_options_free(&o);
}

/* watch_backing= and the kernel cache timeouts (backing_watch.c) */
static void test_cache_options(void)
{
	struct fusebpf_options o;
	char err[256];

	CHECK(parse(&o, err, "/b", "/m", NULL, NULL, NULL) == 0);
	CHECK(!o.no_watch_backing);
	CHECK(o.entry_timeout < 0 && o.attr_timeout < 0);
	fusebpf_options_free(&o);

	CHECK(parse(&o, err, "/b", "/m", "-o",
		    "watch_backing=off,entry_timeout=30,attr_timeout=0.5",
		    NULL) == 0);
	CHECK(o.no_watch_backing);
	CHECK(o.entry_timeout == 30 && o.attr_timeout == 0.5);
	fusebpf_options_free(&o);

	CHECK(parse(&o, err, "/b", "/m", "-o", "watch_backing=on,entry_timeout=0",
		    NULL) == 0);
	CHECK(!o.no_watch_backing && o.entry_timeout == 0);
	fusebpf_options_free(&o);

	CHECK(parse(&o, err, "/b", "/m", "-o", "watch_backing=yes", NULL) == -1);
	CHECK(!strcmp(err, "watch_backing=yes: on or off"));
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "attr_timeout=-1", NULL) == -1);
	CHECK(!strcmp(err, "attr_timeout=-1: not a number of seconds"));
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "entry_timeout=1s", NULL) == -1);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "entry_timeout=", NULL) == -1);
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "entry_timeout=nan", NULL) == -1);
	fusebpf_options_free(&o);
}

/* standard mount options (mount -t fuse, fstab) go to the mount */
static void test_mount_options(void)
{
	struct fusebpf_options o;
	char err[256];

	CHECK(parse(&o, err, "/b", "/m", NULL, NULL, NULL) == 0);
	CHECK(!o.mount_opts && !o.fsname && !o.subtype);
	fusebpf_options_free(&o);

	CHECK(parse(&o, err, "/b", "/m", "-o",
		    "ro,noatime,mode=userspace,dev,suid,fsname=/data/media",
		    NULL) == 0);
	CHECK(o.mount_opts && !strcmp(o.mount_opts, "ro,noatime,dev,suid"));
	CHECK(o.fsname && !strcmp(o.fsname, "/data/media"));
	CHECK(o.mode == FUSEBPF_MODE_USERSPACE);
	fusebpf_options_free(&o);
	CHECK(!o.mount_opts && !o.fsname);

	CHECK(parse(&o, err, "/b", "/m", "-o",
		    "rw,strictatime,nodev,nosuid,noexec,sync,dirsync,subtype=media",
		    "-orelatime,lazytime") == 0);
	CHECK(o.mount_opts && !strcmp(o.mount_opts,
		"rw,strictatime,nodev,nosuid,noexec,sync,dirsync,relatime,lazytime"));
	CHECK(o.subtype && !strcmp(o.subtype, "media"));
	fusebpf_options_free(&o);

	/* fstab-only options: accepted, nothing for the mount */
	CHECK(parse(&o, err, "/b", "/m", "-o",
		    "defaults,nofail,_netdev,noauto,x-systemd.automount",
		    NULL) == 0);
	CHECK(!o.mount_opts);
	fusebpf_options_free(&o);

	CHECK(parse(&o, err, "/b", "/m", "-o", "fsname=", NULL) == -1);
	CHECK(!strcmp(err, "fsname= needs a value"));
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "ro=1", NULL) == -1);
	CHECK(!strcmp(err, "unknown option 'ro=1'"));
	fusebpf_options_free(&o);
	CHECK(parse(&o, err, "/b", "/m", "-o", "rox", NULL) == -1);
	fusebpf_options_free(&o);
}

int main(void)
{
	test_basic();
	test_errors();
	test_served();
	test_cache_options();
	test_mount_options();
	return unit_report();
}
