/*
 * sipsess-lua — a C application that embeds Lua call-control logic.
 *
 *   sipsess-lua [--timeout SEC] [--print-rusage] SCRIPT.lua [args...]
 *
 * The script runs with the sipsess module preloaded (require "sipsess")
 * and the usual `arg` table. It returns an application table:
 *
 *   return {
 *     ua = { listen = {"udp:127.0.0.1:5070"}, user_agent = "...", ... },
 *                                -- options of sipsess.new_ua
 *     delegate = { on_invite = function(self, session, request) ... end },
 *                                -- the UA delegate (or ua.delegate)
 *     main = function(ua, args) ... end,  -- after the UA is up (place calls)
 *     finish = function(ua) return 0 end, -- exit status when the loop ends
 *   }
 *
 * The host creates the UA from `ua`, installs the delegate, calls main,
 * then drives the loop until the script calls ua:stop(), a signal
 * (SIGINT/SIGTERM) arrives or --timeout passes; then finish(ua) gives the
 * exit status (default 0; 1 after a timeout) and the UA is closed. A script
 * that returns nothing just runs (it may drive a UA of its own).
 *
 * Every call into Lua is protected (lua_pcall with a traceback), so a Lua
 * error ends the host with a message and status 1, never a crash; errors
 * inside callbacks are handled by the module (reported, 500 answered).
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int luaopen_sipsess(lua_State *L);

static volatile sig_atomic_t g_signalled;

static void on_signal(int sig)
{
    (void)sig;
    g_signalled = 1;
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Call the function below its `nargs` arguments on the stack, protected;
 * prints the error and returns nonzero on failure. */
static int pcall(lua_State *L, int nargs, int nres, const char *what)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    int st = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    if (st != LUA_OK) {
        fprintf(stderr, "sipsess-lua: %s: %s\n", what, lua_tostring(L, -1));
        lua_pop(L, 1);
        return 1;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: sipsess-lua [--timeout SEC] [--print-rusage] SCRIPT.lua [args...]\n"
                    "  --timeout SEC    stop the loop after SEC seconds (exit status 1)\n"
                    "  --print-rusage   print \"rusage utime_us U stime_us S maxrss_kb M\" at exit\n");
}

int main(int argc, char **argv)
{
    double timeout = 0;
    int print_rusage = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
            timeout = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--print-rusage")) {
            print_rusage = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }
    if (i >= argc) {
        usage();
        return 2;
    }
    const char *script = argv[i];

    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "sipsess-lua: out of memory\n");
        return 1;
    }
    luaL_openlibs(L);
    /* require "sipsess" finds the module compiled into this host */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_sipsess);
    lua_setfield(L, -2, "sipsess");
    lua_pop(L, 2);
    /* arg, as the stock interpreter sets it */
    lua_createtable(L, argc - i - 1, 1);
    for (int k = i; k < argc; k++) {
        lua_pushstring(L, argv[k]);
        lua_rawseti(L, -2, k - i);
    }
    lua_setglobal(L, "arg");

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    int status = 1;
    if (luaL_loadfile(L, script) != LUA_OK) {
        fprintf(stderr, "sipsess-lua: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    for (int k = i + 1; k < argc; k++)
        lua_pushstring(L, argv[k]);
    if (pcall(L, argc - i - 1, 1, script))
        goto out;
    if (!lua_istable(L, -1)) {
        status = 0; /* the script did its work itself */
        goto out;
    }
    int app = lua_gettop(L);

    /* the UA from app.ua, with app.delegate unless ua.delegate is set */
    lua_getfield(L, app, "ua");
    if (!lua_istable(L, -1)) {
        fprintf(stderr, "sipsess-lua: %s: the returned table has no `ua` options table\n", script);
        goto out;
    }
    int opts = lua_gettop(L);
    lua_getfield(L, opts, "delegate");
    int has_del = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (!has_del) {
        lua_getfield(L, app, "delegate");
        lua_setfield(L, opts, "delegate");
    }
    lua_getglobal(L, "require");
    lua_pushstring(L, "sipsess");
    if (pcall(L, 1, 1, "require sipsess"))
        goto out;
    lua_getfield(L, -1, "new_ua");
    lua_pushvalue(L, opts);
    if (pcall(L, 1, 1, "creating the UA"))
        goto out;
    int ua = lua_gettop(L);

    lua_getfield(L, app, "main");
    if (lua_isfunction(L, -1)) {
        lua_pushvalue(L, ua);
        lua_getglobal(L, "arg");
        if (pcall(L, 2, 0, "main")) {
            status = 1;
            goto close;
        }
    } else {
        lua_pop(L, 1);
    }

    /* the loop: until ua:stop(), a signal or the timeout */
    double deadline = timeout > 0 ? now_s() + timeout : 0;
    int timed_out = 0;
    for (;;) {
        lua_getfield(L, ua, "stopping");
        int stopping = lua_toboolean(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, ua, "closed");
        int closed = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (stopping || closed || g_signalled)
            break;
        if (deadline && now_s() >= deadline) {
            timed_out = 1;
            fprintf(stderr, "sipsess-lua: %s: timeout after %.1f s\n", script, timeout);
            break;
        }
        lua_getfield(L, ua, "step");
        lua_pushvalue(L, ua);
        lua_pushinteger(L, 100);
        if (pcall(L, 2, 3, "loop"))
            break;
        if (lua_isnil(L, -3))
            fprintf(stderr, "sipsess-lua: %s\n", lua_tostring(L, -2));
        lua_pop(L, 3);
    }

    status = timed_out ? 1 : 0;
    lua_getfield(L, app, "finish");
    if (lua_isfunction(L, -1)) {
        lua_pushvalue(L, ua);
        if (pcall(L, 1, 1, "finish")) {
            status = 1;
        } else {
            if (lua_isinteger(L, -1))
                status = (int)lua_tointeger(L, -1);
            else if (lua_isboolean(L, -1))
                status = lua_toboolean(L, -1) ? status : 1;
            lua_pop(L, 1);
        }
    } else {
        lua_pop(L, 1);
    }
close:
    lua_getfield(L, ua, "close");
    lua_pushvalue(L, ua);
    if (pcall(L, 1, 0, "close"))
        status = 1;
out:
    lua_close(L);
    if (print_rusage) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("rusage utime_us %lld stime_us %lld maxrss_kb %ld\n",
               (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
               (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
        fflush(stdout);
    }
    return status;
}
