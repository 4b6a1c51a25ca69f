/* The one place jsmn's implementation is compiled (strict mode), so every module
 * shares one copy. jsmn only tokenizes; json.c has already validated the bytes. */
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>
