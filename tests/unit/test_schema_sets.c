/* The packed schema tables (schema.h): every field of every set is a real, named field. A
 * schema's array declared longer than its initializer would hold zero-filled fields (an empty
 * name matched by the key "", capture slot 0 cleared on every walk); the compiler cannot see
 * that, so this test reads each set's fields and names. */
#include "test_util.h"
#include "envelope.h"
#include "config.h"
#include "rest.h"

static void check_set(const schema_set *set, const char *which) {
    assert_true(set->field_count > 0);
    for (uint8_t k = 0; k < set->field_count; k++) {
        const schema_field *f = &set->fields[k];
        const char *name = schema_field_name(set, f);
        if (f->name_len == 0 || strlen(name) != f->name_len)
            fail_msg("%s field %u: name \"%s\" (name_len %u)", which, k, name, f->name_len);
        assert_true(f->type <= ST_SCALAR);
        if (f->type == ST_ENUM) assert_non_null(set->enums[f->sub]);
    }
}

static void every_field_of_every_set_is_named(void **s) {
    check_set(&ENV_SCHEMA_SET, "envelope");
    check_set(&CONFIG_SCHEMA_SET, "config");
    check_set(&REST_OPTION_SCHEMA_SET, "call options");
}

/* Each schema's fields are its own: the meta schema starts with timestamp and ends with
 * extensions, a sub-schema's index leads to the object named by the field. */
static void schemas_reach_their_own_fields(void **s) {
    const schema_set *set = &ENV_SCHEMA_SET;
    const schema *meta = &set->schemas[0];
    const schema_field *mf = schema_fields(set, meta);
    assert_string_equal(schema_field_name(set, &mf[0]), "timestamp");
    assert_string_equal(schema_field_name(set, &mf[meta->count - 1]), "extensions");
    for (uint8_t k = 0; k < meta->count; k++) {
        if (mf[k].type != ST_OBJECT) continue;
        const schema *sub = &set->schemas[mf[k].sub];
        const char *first = schema_field_name(set, &schema_fields(set, sub)[0]);
        const char *name = schema_field_name(set, &mf[k]);
        const char *want = !strcmp(name, "on_behalf_of") ? "originalUser" : !strcmp(name, "security") ? "user_id"
                         : !strcmp(name, "debug") ? "trace_enabled" : !strcmp(name, "performance") ? "db_query_time"
                         : !strcmp(name, "monitoring") ? "server_id" : !strcmp(name, "tracing") ? "trace_id" : "?";
        assert_string_equal(first, want);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_field_of_every_set_is_named),
        cmocka_unit_test(schemas_reach_their_own_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
