/* main.c: the `digits` program: dispatches to one verb per cmd_*.c and
 * owns the help texts. Exit status 0 ok, 1 failure, 2 usage error. */
#include <string.h>

#include "cli.h"

#define DG_VERSION "0.1.0"

static const char overview[] =
    "usage: digits VERB [OPTIONS] [ARGS]\n"
    "\n"
    "Handwritten digit recognition with a small C network core.\n"
    "\n"
    "verbs:\n"
    "  predict [--model FILE]... [--json] IMAGE...   read digits from images (or photos)\n"
    "  train --data DIR --arch NAME [OPTIONS]        train a network on MNIST-format data\n"
    "  eval [--model FILE]... --data DIR [--report DIR]  accuracy, P/R/F1, confusion matrix\n"
    "  info FILE                                     layers, shapes, parameters, metadata\n"
    "  help [VERB]                                   this text, or a verb's options\n"
    "\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 usage error.\n";

static const char help_predict[] =
    "usage: digits predict [--model FILE]... [--json] [--save-input DIR] IMAGE...\n"
    "\n"
    "Reads the digit in each image (PNG, JPEG, BMP, GIF, binary PGM; any size,\n"
    "a drawing or a photo of paper, dark ink on light paper or the reverse;\n"
    "JPEG EXIF orientation applied) and prints one line per image:\n"
    "  FILE<TAB>DIGIT<TAB>CONFIDENCE\n"
    "\n"
    "  --model FILE     model file; give it several times for an ensemble that\n"
    "                   averages the probabilities. Default: $DIGITS_MODEL, else\n"
    "                   ./models/default.safetensors, else models/ beside the\n"
    "                   folder of the digits program.\n"
    "  --json           one JSON object per line, for every image: file, digit,\n"
    "                   confidence, probs, box ([x,y,w,h]: the ink read, in the\n"
    "                   upright image's pixels), photo (true: paper lighting was\n"
    "                   estimated and removed); an image that gives no digit has\n"
    "                   \"digit\":null, \"probs\":null, \"error\" (the message) and\n"
    "                   \"reason\" (empty, uncertain, unreadable or failed)\n"
    "  --save-input DIR write the 28x28 input each image became to\n"
    "                   DIR/NAME.png (NAME: the image's file name without its\n"
    "                   extension; -2, -3, ... added when names repeat), 280x280\n"
    "                   gray, each input pixel a 10x10 square, ink white on black\n"
    "                   as the network sees it (MNIST's polarity). DIR is created\n"
    "                   if missing; with --json the path is in \"input\"\n"
    "  --threads N      threads for the network (default 1)\n"
    "\n"
    "A file that cannot be read, an image without ink (\"empty image\") and one\n"
    "with several digit-sized shapes and no clear winner (\"uncertain\") each get\n"
    "one line on stderr; the other images are still predicted, and the exit\n"
    "status is 1.\n";

static const char help_train[] =
    "usage: digits train --data DIR --arch NAME [OPTIONS]\n"
    "\n"
    "Trains a network on DIR (the four MNIST idx files, raw or .gz), keeps the\n"
    "last --val training images for validation, evaluates on the t10k test set\n"
    "and saves the model with its metadata (data, accuracy, date, command).\n"
    "\n"
    "  --data DIR          MNIST-format folder (required unless --resume)\n"
    "  --arch NAME         architecture: a name (see below) or a spec string\n"
    "                      (required unless --resume gives one)\n"
    "  --epochs N          epochs (default 10)\n"
    "  --batch N           batch size (default 64)\n"
    "  --lr X              learning rate (default 0.001 for adam, 0.01 for sgd)\n"
    "  --optimizer NAME    adam or sgd (default adam)\n"
    "  --weight-decay X    decoupled weight decay (default 0)\n"
    "  --augment           random rotation, zoom, shift and shear\n"
    "  --augment-thickness X  also thicken/thin strokes by up to X px (as\n"
    "                      drawings vary; implies --augment)\n"
    "  --init FILE         start from FILE's weights and architecture\n"
    "                      (fine-tuning; not with --arch or --resume)\n"
    "  --keep best|last    weights to keep: the best validation epoch's\n"
    "                      (default) or the last epoch's\n"
    "  --ema D             keep a moving average of the weights (decay D,\n"
    "                      e.g. 0.999): validated, kept and saved instead\n"
    "                      of the raw weights (default 0 = off)\n"
    "  --schedule NAME     plateau (default: halve the rate after 3 epochs\n"
    "                      without gain) or cosine (decay to 1e-5 by the end)\n"
    "  --seed N            random seed (default 1)\n"
    "  --patience N        stop after N epochs without val-loss gain, keeping\n"
    "                      the best weights (default 5; 0 = never); the rate\n"
    "                      halves after 3 epochs without gain\n"
    "  --val N             validation images (default 5000, or a tenth of a\n"
    "                      small --limit; 0 = none)\n"
    "  --limit N           use only the first N training images\n"
    "  --threads N         threads (default: all cores; results do not depend on it)\n"
    "  --out FILE          model file (default ARCH.safetensors)\n"
    "  --checkpoint FILE   checkpoint written each epoch (default OUT.ckpt)\n"
    "  --resume FILE       continue from a checkpoint with its run's options\n"
    "                      (data, batch, rate, augmentation, ...: all stored\n"
    "                      in it); options given again override them, with a\n"
    "                      note if that changes the run. --epochs is the total\n"
    "\n"
    "Ctrl-C stops after the current batch and leaves a checkpoint to resume.\n";

static const char help_eval[] =
    "usage: digits eval [--model FILE]... --data DIR [--report DIR] [--limit N]\n"
    "\n"
    "Evaluates a model (several --model flags: an ensemble) on the t10k test\n"
    "set of DIR: accuracy, mean loss, per-class precision, recall and F1, and\n"
    "the confusion matrix (rows: true digit, columns: predicted).\n"
    "\n"
    "  --model FILE   model file (default as for predict)\n"
    "  --data DIR     MNIST-format folder (required)\n"
    "  --report DIR   also write DIR/index.html with pictures: confusion\n"
    "                 matrix, misclassified digits, training curves\n"
    "  --limit N      only the first N test images\n"
    "  --threads N    threads for the network\n";

static const char help_info[] =
    "usage: digits info FILE\n"
    "\n"
    "Prints a model file's layers with output shapes and parameter counts,\n"
    "the totals, the file size and all stored metadata.\n";

int cli_help(FILE *f, const char *verb) {
  if (!verb) {
    fputs(overview, f);
    return 0;
  }
  const char *t = strcmp(verb, "predict") == 0 ? help_predict
                  : strcmp(verb, "train") == 0 ? help_train
                  : strcmp(verb, "eval") == 0  ? help_eval
                  : strcmp(verb, "info") == 0  ? help_info
                                               : NULL;
  if (!t) return -1;
  fputs(t, f);
  if (strcmp(verb, "train") == 0) {
    fputs("\narchitectures:", f);
    for (const char *const *n = dg_arch_names(); n && *n; n++)
      fprintf(f, " %s", *n);
    fputc('\n', f);
  }
  return 0;
}

/* True if any argument after the verb asks for help. */
static int wants_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) return 0;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  cli_argc = argc;
  cli_argv = argv;
  if (argc < 2) {
    fputs(overview, stderr);
    return cli_usage(NULL, "no verb given (predict, train, eval, info, help)");
  }
  const char *verb = argv[1];
  if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
    fputs(overview, stdout);
    return CLI_OK;
  }
  if (strcmp(verb, "--version") == 0 || strcmp(verb, "version") == 0) {
    printf("digits %s (%s)\n", DG_VERSION, dg_build_info());
    return CLI_OK;
  }
  if (strcmp(verb, "help") == 0) {
    if (argc < 3) {
      fputs(overview, stdout);
      return CLI_OK;
    }
    if (argc > 3)
      return cli_usage("help", "expected one verb, got %d arguments", argc - 2);
    if (strcmp(argv[2], "help") == 0) {
      fputs(overview, stdout);
      return CLI_OK;
    }
    if (cli_help(stdout, argv[2]) != 0)
      return cli_usage("help", "unknown verb \"%s\" (predict, train, eval, info)",
                       argv[2]);
    return CLI_OK;
  }
  int (*fn)(int, char **) = strcmp(verb, "predict") == 0 ? cmd_predict
                            : strcmp(verb, "train") == 0 ? cmd_train
                            : strcmp(verb, "eval") == 0  ? cmd_eval
                            : strcmp(verb, "info") == 0  ? cmd_info
                                                         : NULL;
  if (!fn) {
    if (verb[0] == '-')
      return cli_usage(NULL, "unknown option \"%s\" (see 'digits --help')", verb);
    return cli_usage(NULL, "unknown verb \"%s\" (predict, train, eval, info, help)",
                     verb);
  }
  if (wants_help(argc - 1, argv + 1)) {
    cli_help(stdout, verb);
    return CLI_OK;
  }
  int rc = fn(argc - 1, argv + 1);
  if (fflush(stdout) != 0 && rc == CLI_OK)
    rc = cli_fail(verb, "cannot write the output");
  return rc;
}
