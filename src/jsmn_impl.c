/* The one place jsmn's implementation is compiled, so every module shares one copy. jsmn only
 * tokenizes; json.c has already validated the bytes, so jsmn's JSMN_STRICT checks (primitive
 * characters, keys, what follows a primitive) could never refuse anything: built without them,
 * it gives the same tokens for every valid JSON text (tests/fuzz/fuzz_json.c checks them). */
#define JSMN_PARENT_LINKS
#include <jsmn.h>
