/*
 * notmuch, loaded on first use rather than at start: it brings some twenty
 * libraries (Xapian, libstdc++, GLib, GMime, GPGME...) whose loading costs
 * 11 ms and several megabytes before main() on every start, and a session
 * with IMAP accounts only never needs it. The local backend's files call
 * the usual names, which this header turns into calls through a table
 * that nm_get() fills with dlopen() once (a missing library is fatal, as
 * a missing shared library was at start).
 */
#ifndef FACTEUR_BACKEND_LOCAL_NM_H
#define FACTEUR_BACKEND_LOCAL_NM_H

#include <notmuch.h>

struct nm_syms {
#define NM_SYM(f)	__typeof__(f) *f;
#include "backend/local/nm-syms.h"
#undef NM_SYM
};

/* The table, loaded on the first call (any thread). */
const struct nm_syms *nm_get(void);

#ifndef NM_IMPLEMENTATION
#define notmuch_database_begin_atomic	(nm_get()->notmuch_database_begin_atomic)
#define notmuch_database_close	(nm_get()->notmuch_database_close)
#define notmuch_database_create_with_config	(nm_get()->notmuch_database_create_with_config)
#define notmuch_database_destroy	(nm_get()->notmuch_database_destroy)
#define notmuch_database_end_atomic	(nm_get()->notmuch_database_end_atomic)
#define notmuch_database_find_message	(nm_get()->notmuch_database_find_message)
#define notmuch_database_find_message_by_filename	(nm_get()->notmuch_database_find_message_by_filename)
#define notmuch_database_get_directory	(nm_get()->notmuch_database_get_directory)
#define notmuch_database_index_file	(nm_get()->notmuch_database_index_file)
#define notmuch_database_needs_upgrade	(nm_get()->notmuch_database_needs_upgrade)
#define notmuch_database_open_with_config	(nm_get()->notmuch_database_open_with_config)
#define notmuch_database_remove_message	(nm_get()->notmuch_database_remove_message)
#define notmuch_database_reopen	(nm_get()->notmuch_database_reopen)
#define notmuch_database_status_string	(nm_get()->notmuch_database_status_string)
#define notmuch_database_upgrade	(nm_get()->notmuch_database_upgrade)
#define notmuch_directory_delete	(nm_get()->notmuch_directory_delete)
#define notmuch_directory_destroy	(nm_get()->notmuch_directory_destroy)
#define notmuch_directory_get_child_directories	(nm_get()->notmuch_directory_get_child_directories)
#define notmuch_directory_get_child_files	(nm_get()->notmuch_directory_get_child_files)
#define notmuch_directory_get_mtime	(nm_get()->notmuch_directory_get_mtime)
#define notmuch_directory_set_mtime	(nm_get()->notmuch_directory_set_mtime)
#define notmuch_filenames_destroy	(nm_get()->notmuch_filenames_destroy)
#define notmuch_filenames_get	(nm_get()->notmuch_filenames_get)
#define notmuch_filenames_move_to_next	(nm_get()->notmuch_filenames_move_to_next)
#define notmuch_filenames_valid	(nm_get()->notmuch_filenames_valid)
#define notmuch_message_add_tag	(nm_get()->notmuch_message_add_tag)
#define notmuch_message_destroy	(nm_get()->notmuch_message_destroy)
#define notmuch_message_freeze	(nm_get()->notmuch_message_freeze)
#define notmuch_message_get_date	(nm_get()->notmuch_message_get_date)
#define notmuch_message_get_filename	(nm_get()->notmuch_message_get_filename)
#define notmuch_message_get_filenames	(nm_get()->notmuch_message_get_filenames)
#define notmuch_message_get_flag_st	(nm_get()->notmuch_message_get_flag_st)
#define notmuch_message_get_header	(nm_get()->notmuch_message_get_header)
#define notmuch_message_get_message_id	(nm_get()->notmuch_message_get_message_id)
#define notmuch_message_get_replies	(nm_get()->notmuch_message_get_replies)
#define notmuch_message_get_tags	(nm_get()->notmuch_message_get_tags)
#define notmuch_message_get_thread_id	(nm_get()->notmuch_message_get_thread_id)
#define notmuch_message_maildir_flags_to_tags	(nm_get()->notmuch_message_maildir_flags_to_tags)
#define notmuch_message_remove_tag	(nm_get()->notmuch_message_remove_tag)
#define notmuch_message_tags_to_maildir_flags	(nm_get()->notmuch_message_tags_to_maildir_flags)
#define notmuch_message_thaw	(nm_get()->notmuch_message_thaw)
#define notmuch_messages_get	(nm_get()->notmuch_messages_get)
#define notmuch_messages_move_to_next	(nm_get()->notmuch_messages_move_to_next)
#define notmuch_messages_valid	(nm_get()->notmuch_messages_valid)
#define notmuch_query_add_tag_exclude	(nm_get()->notmuch_query_add_tag_exclude)
#define notmuch_query_count_messages	(nm_get()->notmuch_query_count_messages)
#define notmuch_query_count_threads	(nm_get()->notmuch_query_count_threads)
#define notmuch_query_create	(nm_get()->notmuch_query_create)
#define notmuch_query_destroy	(nm_get()->notmuch_query_destroy)
#define notmuch_query_get_query_string	(nm_get()->notmuch_query_get_query_string)
#define notmuch_query_search_messages	(nm_get()->notmuch_query_search_messages)
#define notmuch_query_search_threads	(nm_get()->notmuch_query_search_threads)
#define notmuch_query_set_omit_excluded	(nm_get()->notmuch_query_set_omit_excluded)
#define notmuch_query_set_sort	(nm_get()->notmuch_query_set_sort)
#define notmuch_status_to_string	(nm_get()->notmuch_status_to_string)
#define notmuch_tags_destroy	(nm_get()->notmuch_tags_destroy)
#define notmuch_tags_get	(nm_get()->notmuch_tags_get)
#define notmuch_tags_move_to_next	(nm_get()->notmuch_tags_move_to_next)
#define notmuch_tags_valid	(nm_get()->notmuch_tags_valid)
#define notmuch_thread_destroy	(nm_get()->notmuch_thread_destroy)
#define notmuch_thread_get_authors	(nm_get()->notmuch_thread_get_authors)
#define notmuch_thread_get_messages	(nm_get()->notmuch_thread_get_messages)
#define notmuch_thread_get_newest_date	(nm_get()->notmuch_thread_get_newest_date)
#define notmuch_thread_get_subject	(nm_get()->notmuch_thread_get_subject)
#define notmuch_thread_get_tags	(nm_get()->notmuch_thread_get_tags)
#define notmuch_thread_get_thread_id	(nm_get()->notmuch_thread_get_thread_id)
#define notmuch_thread_get_toplevel_messages	(nm_get()->notmuch_thread_get_toplevel_messages)
#define notmuch_thread_get_total_messages	(nm_get()->notmuch_thread_get_total_messages)
#define notmuch_threads_get	(nm_get()->notmuch_threads_get)
#define notmuch_threads_move_to_next	(nm_get()->notmuch_threads_move_to_next)
#define notmuch_threads_valid	(nm_get()->notmuch_threads_valid)
#endif

#endif
