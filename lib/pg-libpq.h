/* SPDX-License-Identifier: MIT */
/*
 * libpq, loaded when the first PostgreSQL store is opened (pg-libpq.c),
 * not when the library is: linking it would map libpq and its dozen
 * libraries (OpenSSL, Kerberos, LDAP...) into every process, SQLite
 * stores' included (evcount-cli hourly on a SQLite store: 3.4 -> 5.4-6.5
 * ms a process, peak RSS +3 MB). pg.c calls the functions by their names,
 * which this header turns into pointers filled from the loaded libpq.
 * Only pg.c and pg-libpq.c include it.
 */
#ifndef EVC_PG_LIBPQ_H
#define EVC_PG_LIBPQ_H

#include <libpq-fe.h>

#define EVC_LIBPQ_FUNCS(X)                                                     \
	X(PQclear)                                                             \
	X(PQcmdStatus)                                                         \
	X(PQcmdTuples)                                                         \
	X(PQconnectdbParams)                                                   \
	X(PQerrorMessage)                                                      \
	X(PQexec)                                                              \
	X(PQexecParams)                                                        \
	X(PQexecPrepared)                                                      \
	X(PQfinish)                                                            \
	X(PQgetResult)                                                         \
	X(PQgetisnull)                                                         \
	X(PQgetlength)                                                         \
	X(PQgetvalue)                                                          \
	X(PQnfields)                                                           \
	X(PQntuples)                                                           \
	X(PQprepare)                                                           \
	X(PQputCopyData)                                                       \
	X(PQputCopyEnd)                                                        \
	X(PQreset)                                                             \
	X(PQresultErrorField)                                                  \
	X(PQresultStatus)                                                      \
	X(PQsetNoticeProcessor)                                                \
	X(PQsocket)                                                            \
	X(PQstatus)                                                            \
	X(PQtransactionStatus)

#define EVC_LIBPQ_DECLARE(f) extern __typeof__(f) *evc__##f;
EVC_LIBPQ_FUNCS(EVC_LIBPQ_DECLARE)
#undef EVC_LIBPQ_DECLARE

/* Load libpq once (thread-safe); EVC_OK, or EVC_EIO with the reason in
 * `why` (static or in a static buffer). */
int evc__libpq_load(const char **why);

#ifndef EVC_LIBPQ_NO_REDIRECT
#define PQclear              evc__PQclear
#define PQcmdStatus          evc__PQcmdStatus
#define PQcmdTuples          evc__PQcmdTuples
#define PQconnectdbParams    evc__PQconnectdbParams
#define PQerrorMessage       evc__PQerrorMessage
#define PQexec               evc__PQexec
#define PQexecParams         evc__PQexecParams
#define PQexecPrepared       evc__PQexecPrepared
#define PQfinish             evc__PQfinish
#define PQgetResult          evc__PQgetResult
#define PQgetisnull          evc__PQgetisnull
#define PQgetlength          evc__PQgetlength
#define PQgetvalue           evc__PQgetvalue
#define PQnfields            evc__PQnfields
#define PQntuples            evc__PQntuples
#define PQprepare            evc__PQprepare
#define PQputCopyData        evc__PQputCopyData
#define PQputCopyEnd         evc__PQputCopyEnd
#define PQreset              evc__PQreset
#define PQresultErrorField   evc__PQresultErrorField
#define PQresultStatus       evc__PQresultStatus
#define PQsetNoticeProcessor evc__PQsetNoticeProcessor
#define PQsocket             evc__PQsocket
#define PQstatus             evc__PQstatus
#define PQtransactionStatus  evc__PQtransactionStatus
#endif

#endif /* EVC_PG_LIBPQ_H */
