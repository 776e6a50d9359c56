/*
 * The key log's directory and files (daemon.keylog_dir: 0700 / 0600, refused when others can get
 * at them) and the control socket's directory check (common/privdir.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/privdir.h"
#include "ike/keylog.h"

struct tmp {
    char base[256], dir[300];
};

static int setup(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));
    const char *out = getenv("HIKE_TEST_OUT");
    if (!t)
        return -1;
    snprintf(t->base, sizeof(t->base), "%s/privdir-XXXXXX", out && *out ? out : "/tmp");
    if (!mkdtemp(t->base))
        return -1;
    snprintf(t->dir, sizeof(t->dir), "%s/keys", t->base);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tmp *t = *state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->base);
    if (system(cmd))
        return -1;
    free(t);
    return 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

static void created_private(void **state)
{
    struct tmp *t = *state;
    char err[512], file[400];
    mode_t old = umask(0); /* the modes must not depend on the caller's umask */
    assert_int_equal(hk_keylog_write(t->dir, "esp_sa", "line 1\n", err, sizeof(err)), 0);
    assert_int_equal(hk_keylog_write(t->dir, "esp_sa", "line 2\n", err, sizeof(err)), 0);
    umask(old);
    assert_int_equal(mode_of(t->dir), 0700);
    snprintf(file, sizeof(file), "%s/esp_sa", t->dir);
    assert_int_equal(mode_of(file), 0600);
    FILE *f = fopen(file, "r");
    char buf[64] = "";
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 14);
    fclose(f);
    assert_string_equal(buf, "line 1\nline 2\n");
    /* A table name is a file name, never a path. */
    assert_int_equal(hk_keylog_write(t->dir, "../x", "x", err, sizeof(err)), HK_E_INVALID);
}

static void open_directory_refused(void **state)
{
    struct tmp *t = *state;
    char err[512] = "", file[400];
    /* What was found before: a 0777 directory. Nothing is written into it. */
    assert_int_equal(mkdir(t->dir, 0700), 0);
    assert_int_equal(chmod(t->dir, 0777), 0);
    assert_int_equal(hk_keylog_write(t->dir, "esp_sa", "secret\n", err, sizeof(err)), HK_E_CONFIG);
    assert_non_null(strstr(err, "has mode 0777: group or others may access it; refused"));
    snprintf(file, sizeof(file), "%s/esp_sa", t->dir);
    assert_int_equal(access(file, F_OK), -1);
    /* Group access alone is enough to refuse; 0700 is taken. */
    assert_int_equal(chmod(t->dir, 0750), 0);
    assert_int_equal(hk_keylog_write(t->dir, "esp_sa", "secret\n", err, sizeof(err)), HK_E_CONFIG);
    assert_int_equal(chmod(t->dir, 0700), 0);
    assert_int_equal(hk_keylog_write(t->dir, "esp_sa", "secret\n", err, sizeof(err)), 0);
}

static void open_file_refused(void **state)
{
    struct tmp *t = *state;
    char err[512] = "", file[400], link[400];
    assert_int_equal(mkdir(t->dir, 0700), 0);
    /* A 0644 file left from before: refused, not appended to. */
    snprintf(file, sizeof(file), "%s/ikev2_decryption_table", t->dir);
    int fd = open(file, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(file, 0644), 0);
    assert_int_equal(hk_keylog_write(t->dir, "ikev2_decryption_table", "k\n", err, sizeof(err)),
                     HK_E_IO);
    assert_non_null(strstr(err, "not a private file of hiked's user (mode 0644"));
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(hk_keylog_append(file, "k\n"), HK_E_IO);
    /* A symbolic link in place of the file or of the directory. */
    snprintf(link, sizeof(link), "%s/esp_sa", t->dir);
    assert_int_equal(symlink("/etc/hostname", link), 0);
    assert_int_equal(hk_keylog_write(t->dir, "esp_sa", "k\n", err, sizeof(err)), HK_E_IO);
    snprintf(link, sizeof(link), "%s/link", t->base);
    assert_int_equal(symlink(t->dir, link), 0);
    assert_int_equal(hk_keylog_write(link, "esp_sa", "k\n", err, sizeof(err)), HK_E_CONFIG);
    assert_non_null(strstr(err, "is a symbolic link"));
}

static void foreign_owner_refused(void **state)
{
    struct tmp *t = *state;
    char err[512] = "";
    assert_int_equal(mkdir(t->dir, 0700), 0);
    if (geteuid() != 0 || chown(t->dir, 4242, 4242))
        skip(); /* needs root to give the directory away */
    assert_int_equal(hk_keylog_write(t->dir, "esp_sa", "k\n", err, sizeof(err)), HK_E_CONFIG);
    assert_non_null(strstr(err, "is owned by uid 4242, not by hiked's user (uid 0)"));
    assert_true(hk_dir_open_checked(t->dir, HK_DIR_NO_FOREIGN_WRITE, HK_DIR_OWNER_SELF, err,
                                    sizeof(err)) < 0);
    /* Owned by the user hiked is about to become (daemon.user): its own. */
    int fd = hk_dir_open_checked(t->dir, HK_DIR_NO_FOREIGN_WRITE, 4242, err, sizeof(err));
    assert_true(fd >= 0);
    close(fd);
    assert_true(hk_dir_open_checked(t->dir, HK_DIR_NO_FOREIGN_WRITE, 4243, err, sizeof(err)) < 0);
}

static void control_socket_directory(void **state)
{
    struct tmp *t = *state;
    char err[512] = "";
    /* Missing: made 0700. Readable by others: fine (the socket itself is 0600). */
    int fd =
        hk_dir_open_checked(t->dir, HK_DIR_NO_FOREIGN_WRITE, HK_DIR_OWNER_SELF, err, sizeof(err));
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(t->dir, 0755), 0);
    fd = hk_dir_open_checked(t->dir, HK_DIR_NO_FOREIGN_WRITE, HK_DIR_OWNER_SELF, err, sizeof(err));
    assert_true(fd >= 0);
    close(fd);
    /* Writable by group or others: someone could replace the socket. */
    static const mode_t bad[] = {0777, 0775, 0757, 01777};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(chmod(t->dir, bad[i]), 0);
        assert_int_equal(hk_dir_open_checked(t->dir, HK_DIR_NO_FOREIGN_WRITE, HK_DIR_OWNER_SELF,
                                             err, sizeof(err)),
                         HK_E_CONFIG);
        assert_non_null(strstr(err, "group or others may write to it"));
    }
    /* Not a directory. */
    char file[400];
    snprintf(file, sizeof(file), "%s/plain", t->base);
    fd = open(file, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(
        hk_dir_open_checked(file, HK_DIR_NO_FOREIGN_WRITE, HK_DIR_OWNER_SELF, err, sizeof(err)),
        HK_E_CONFIG);
    assert_non_null(strstr(err, "not a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(created_private, setup, teardown),
        cmocka_unit_test_setup_teardown(open_directory_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(open_file_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_owner_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(control_socket_directory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
