/* adapter.c -- the hiredis <-> libuv event adapter of the store (one per connection). */
#include "store/store_int.h"

#include <stdlib.h>

/* ---- event adapter ---------------------------------------------------------
 * Our own instead of hiredis' adapters/libuv.h, which calls uv_poll_start on
 * every addWrite/delWrite, i.e. twice per command; on Linux uv_poll_start
 * first unregisters the fd with an immediate epoll_ctl(DEL) (failing with
 * ENOENT half the time) and the next poll registers it again: ~5 epoll_ctl
 * per command at 1000 commands/s (strace). Here the fd stays registered for
 * reading for the connection's life; writes are flushed once per loop
 * iteration from a uv_prepare (one write for every command queued in that
 * iteration), and writable interest is registered only while connecting or
 * when the socket is full. */
struct st_ev {
    redisAsyncContext *ac;       /* NULL once hiredis called cleanup */
    uv_poll_t poll;
    uv_prepare_t flush;
    int events;                  /* registered with the poll */
    int want_write;              /* hiredis has output queued */
    int open;                    /* handles not closed yet */
};

static void ev_on_poll(uv_poll_t *h, int status, int events);

static void ev_set(struct st_ev *e, int events)
{
    if (events == e->events)
        return;
    e->events = events;
    if (events)
        uv_poll_start(&e->poll, events, ev_on_poll);
    else
        uv_poll_stop(&e->poll);
}

/* An error status comes when epoll reported POLLERR (libuv has stopped
 * the handle then): on a connected socket typically the RST a write drew
 * from a peer that died. hiredis learns of it only by reading, so it reads
 * now (the read fails, hiredis tears the connection down and the pending
 * commands fail with SC_ECLOSED at once, not at their deadline). While
 * connecting, the store's connect probe decides, as before. */
static void ev_on_poll_error(struct st_ev *e)
{
    if (!e->ac || !(e->ac->c.flags & REDIS_CONNECTED))
        return;
    int want = e->events;
    e->events = 0; /* stopped by libuv */
    redisAsyncHandleRead(e->ac);
    if (e->ac) /* data came first: watch again, the error is read next */
        ev_set(e, want);
}

static void ev_on_poll(uv_poll_t *h, int status, int events)
{
    struct st_ev *e = h->data;
    if (status != 0) {
        ev_on_poll_error(e);
        return;
    }
    if (e->ac && (events & UV_READABLE))
        redisAsyncHandleRead(e->ac);
    if (e->ac && (events & UV_WRITABLE))
        redisAsyncHandleWrite(e->ac);
}

static void ev_on_flush(uv_prepare_t *p)
{
    struct st_ev *e = p->data;
    uv_prepare_stop(p);
    if (!e->ac || !e->want_write)
        return;
    redisAsyncHandleWrite(e->ac);
    /* Not all written: the socket is full, wait until it is writable. */
    if (e->ac && e->want_write)
        ev_set(e, e->events | UV_WRITABLE);
}

static void ev_add_read(void *d)
{
    struct st_ev *e = d;
    ev_set(e, e->events | UV_READABLE);
}

static void ev_del_read(void *d)
{
    struct st_ev *e = d;
    ev_set(e, e->events & ~UV_READABLE);
}

static void ev_add_write(void *d)
{
    struct st_ev *e = d;
    e->want_write = 1;
    if (!(e->ac->c.flags & REDIS_CONNECTED))
        ev_set(e, e->events | UV_WRITABLE); /* connect completion */
    else if (!(e->events & UV_WRITABLE))
        uv_prepare_start(&e->flush, ev_on_flush);
}

static void ev_del_write(void *d)
{
    struct st_ev *e = d;
    e->want_write = 0;
    ev_set(e, e->events & ~UV_WRITABLE);
}

static void ev_on_closed(uv_handle_t *h)
{
    struct st_ev *e = h->data;
    if (--e->open == 0)
        free(e);
}

static void ev_cleanup(void *d)
{
    struct st_ev *e = d;
    e->ac = NULL;
    uv_close((uv_handle_t *)&e->poll, ev_on_closed);
    uv_close((uv_handle_t *)&e->flush, ev_on_closed);
}

/* Attach ac to the loop. Returns 0, or -1 with nothing installed. */
int sc__ev_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    struct st_ev *e = calloc(1, sizeof *e);
    if (!e || uv_poll_init(loop, &e->poll, ac->c.fd) != 0) {
        free(e);
        return -1;
    }
    uv_prepare_init(loop, &e->flush);
    e->poll.data = e->flush.data = e;
    e->open = 2;
    e->ac = ac;
    ac->ev.data = e;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    return 0;
}
