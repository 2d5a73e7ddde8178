/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The media indexer's SQLite database:
 *   media(path PRIMARY KEY, size, mtime_ns, type)  the index
 *   grants(uid, prefix, mode)   per-app grants in the decided subtree:
 *                               mode 'r' (see) or 'w' (see and change)
 *   events(seq, type, path, path2)  the post-operation events applied
 *                               (for the test: each once, in order)
 * One connection, serialized (SQLite's own mutex).
 */
#ifndef MEDIA_INDEXER_DB_H
#define MEDIA_INDEXER_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct db;

/* opens (creates) @file; NULL with a message on stderr */
struct db *db_open(const char *file);
void db_close(struct db *db);

/* "image", "video", "audio" by the name's extension, NULL: not media */
const char *media_type(const char *path);

/* the index: @path relative to the backing */
int db_put(struct db *db, const char *path, const struct stat *st);
int db_remove(struct db *db, const char *path);
/* removes @path and everything below it */
int db_remove_tree(struct db *db, const char *path);
int db_clear(struct db *db);
int db_log_event(struct db *db, uint64_t seq, const char *type,
		 const char *path, const char *path2);

int db_grant(struct db *db, uid_t uid, const char *prefix, char mode);
/* the strongest grant of @uid on @path or an ancestor: 'w', 'r' or 0 */
char db_grant_of(struct db *db, uid_t uid, const char *path);
/* does @uid hold a grant strictly below @path? (it may walk through) */
bool db_grant_below(struct db *db, uid_t uid, const char *path);

#endif /* MEDIA_INDEXER_DB_H */
