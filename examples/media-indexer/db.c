// SPDX-License-Identifier: GPL-2.0
/* The media indexer's SQLite database: see db.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "db.h"

struct db {
	sqlite3 *h;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS media ("
	"  path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, type TEXT);"
	"CREATE TABLE IF NOT EXISTS grants ("
	"  uid INTEGER, prefix TEXT, mode TEXT, PRIMARY KEY (uid, prefix));"
	"CREATE TABLE IF NOT EXISTS events ("
	"  seq INTEGER PRIMARY KEY, type TEXT, path TEXT, path2 TEXT);";

static const struct {
	const char *ext, *type;
} types[] = {
	{ "jpg", "image" }, { "jpeg", "image" }, { "png", "image" },
	{ "gif", "image" }, { "heic", "image" }, { "webp", "image" },
	{ "mp4", "video" }, { "mkv", "video" }, { "webm", "video" },
	{ "mov", "video" }, { "mp3", "audio" }, { "flac", "audio" },
	{ "ogg", "audio" }, { "m4a", "audio" }, { "wav", "audio" },
};

const char *media_type(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(dot + 1, types[i].ext))
			return types[i].type;
	return NULL;
}

struct db *db_open(const char *file)
{
	struct db *db = calloc(1, sizeof(*db));
	char *err = NULL;

	if (!db)
		return NULL;
	if (sqlite3_open_v2(file, &db->h, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(db->h, schema, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "media-indexer: %s: %s\n", file,
			err ? err : sqlite3_errmsg(db->h));
		sqlite3_free(err);
		db_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, 5000);
	return db;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_close(db->h);
	free(db);
}

/* runs @sql with text/int parameters given as "t"/"i" in @fmt */
static int run(struct db *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int ret, i = 1;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++, i++) {
		if (*f == 't')
			sqlite3_bind_text(st, i, va_arg(ap, const char *), -1,
					  SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(st, i, va_arg(ap, long long));
	}
	va_end(ap);
	ret = sqlite3_step(st);
	sqlite3_finalize(st);
	if (ret == SQLITE_DONE || ret == SQLITE_ROW)
		return 0;
fail:
	fprintf(stderr, "media-indexer: sql: %s\n", sqlite3_errmsg(db->h));
	return -1;
}

int db_put(struct db *db, const char *path, const struct stat *st)
{
	const char *type = media_type(path);

	if (!type || !S_ISREG(st->st_mode))
		return db_remove(db, path);
	return run(db, "INSERT OR REPLACE INTO media VALUES (?, ?, ?, ?)",
		   "tiit", path, (long long)st->st_size,
		   (long long)st->st_mtim.tv_sec * 1000000000LL +
		   st->st_mtim.tv_nsec, type);
}

int db_remove(struct db *db, const char *path)
{
	return run(db, "DELETE FROM media WHERE path = ?", "t", path);
}

int db_remove_tree(struct db *db, const char *path)
{
	if (!*path)
		return db_clear(db);
	/* substr: no LIKE, so names with % or _ match literally */
	return run(db, "DELETE FROM media WHERE path = ?1 OR "
		   "substr(path, 1, length(?1) + 1) = ?1 || '/'", "t", path);
}

int db_clear(struct db *db)
{
	return run(db, "DELETE FROM media", "");
}

int db_log_event(struct db *db, uint64_t seq, const char *type,
		 const char *path, const char *path2)
{
	return run(db, "INSERT INTO events VALUES (?, ?, ?, ?)", "ittt",
		   (long long)seq, type, path, path2);
}

int db_grant(struct db *db, uid_t uid, const char *prefix, char mode)
{
	char m[2] = { mode, 0 };

	return run(db, "INSERT OR REPLACE INTO grants VALUES (?, ?, ?)", "itt",
		   (long long)uid, prefix, m);
}

char db_grant_of(struct db *db, uid_t uid, const char *path)
{
	static const char sql[] =
		"SELECT max(mode) FROM grants WHERE uid = ?1 AND "
		"(prefix = ?2 OR substr(?2, 1, length(prefix) + 1) = prefix || '/')";
	sqlite3_stmt *st;
	char mode = 0;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		mode = sqlite3_column_text(st, 0)[0];	/* 'w' > 'r' */
	sqlite3_finalize(st);
	return mode;
}

bool db_grant_below(struct db *db, uid_t uid, const char *path)
{
	static const char sql[] =
		"SELECT 1 FROM grants WHERE uid = ?1 AND "
		"substr(prefix, 1, length(?2) + 1) = ?2 || '/' LIMIT 1";
	sqlite3_stmt *st;
	bool found;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}
