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
    "  predict [--model FILE]... [--json] IMAGE...   read digits from images (or photos;\n"
    "                                                - reads standard input)\n"
    "  predict --csv FILE                            Kaggle test CSV -> ImageId,Label\n"
    "  train --data DIR|CSV --arch NAME [OPTIONS]    train a network (MNIST idx folder,\n"
    "                                                image folder DIR/0..9, or CSV)\n"
    "  eval [--model FILE]... --data DIR|CSV [--json] [--report DIR]\n"
    "                                                accuracy, P/R/F1, confusion matrix\n"
    "  info [--json] FILE                            layers, shapes, parameters, metadata\n"
    "  convert IN OUT [--normalize MEAN STD]         .onnx <-> .safetensors\n"
    "  help [VERB]                                   this text, or a verb's options\n"
    "\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 usage error.\n";

static const char help_predict[] =
    "usage: digits predict [--model FILE]... [--json] [--save-input DIR] IMAGE...\n"
    "       digits predict [--model FILE]... --number [--verifier FILE... |\n"
    "                      --no-verifier] [--json] IMAGE...\n"
    "       digits predict [--model FILE]... --csv FILE\n"
    "\n"
    "Reads the digit in each image (PNG, JPEG, BMP, GIF, binary PGM; any size,\n"
    "a drawing or a photo of paper, dark ink on light paper or the reverse;\n"
    "JPEG EXIF orientation applied) and prints one line per image:\n"
    "  FILE<TAB>DIGIT<TAB>CONFIDENCE\n"
    "\n"
    "  --model FILE     model file; give it several times for an ensemble that\n"
    "                   averages the probabilities. Default: $DIGITS_MODEL, else\n"
    "                   ./models/default.safetensors, else models/ beside the\n"
    "                   folder of the digits program, else the installed\n"
    "                   models (share/digits/models of its prefix).\n"
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
    "  --number         read the whole number: every digit, left to right (pieces\n"
    "                   of one digit merged, touching digits split where the\n"
    "                   network is surest); one line per image:\n"
    "                   FILE<TAB>NUMBER<TAB>CONFIDENCE (the weakest digit's).\n"
    "                   With --json: file, number (a string, null when no digit\n"
    "                   was found), confidence, digits ([{digit, confidence, box:\n"
    "                   [x,y,w,h] in the image's pixels, unsure: confidence\n"
    "                   below 0.75}]), photo, split (touching digits cut apart).\n"
    "                   One digit reads exactly as without --number; an image\n"
    "                   without ink: \"no digits found\", exit status 1\n"
    "  --verifier FILE  with --number: a window reader (11 outputs: the digit\n"
    "                   centred in a window of touching digits, or none) that\n"
    "                   reads touching digits; given two to four times, their\n"
    "                   readings are averaged. Default: $DIGITS_VERIFIER, else\n"
    "                   verifier.safetensors, verifier2.safetensors and\n"
    "                   verifier3.safetensors where the default model is\n"
    "                   looked for, those there\n"
    "  --no-verifier    with --number: read without a verifier\n"
    "  --threads N      threads for the network (default 1)\n"
    "  --csv FILE       a CSV in the layout of Kaggle's Digit Recognizer test.csv\n"
    "                   (header pixel0..pixel783, one 28x28 image a row, 0..255,\n"
    "                   white ink on black like MNIST; - reads standard input);\n"
    "                   prints the submission: ImageId,Label, then one row per\n"
    "                   image, ImageId from 1. A label column first (train.csv's\n"
    "                   layout, 785 columns) is accepted and ignored. The pixels\n"
    "                   go to the network as they are (no preprocessing). Not\n"
    "                   with IMAGE arguments, --json or --save-input\n"
    "\n"
    "IMAGE - reads one image (any of the formats above, up to 64 MiB) from\n"
    "standard input; it is named \"-\" in the output.\n"
    "\n"
    "A file that cannot be read, an image without ink (\"empty image\") and one\n"
    "with several digit-sized shapes and no clear winner (\"uncertain\") each get\n"
    "one line on stderr; the other images are still predicted, and the exit\n"
    "status is 1.\n";

static const char help_train[] =
    "usage: digits train --data DIR|CSV --arch NAME [OPTIONS]\n"
    "\n"
    "Trains a network on the data, keeps the last --val training images for\n"
    "validation, evaluates on the test set and saves the model with its\n"
    "metadata (data, accuracy, date, command).\n"
    "\n"
    "  --data DIR|CSV      the training data (required unless --resume):\n"
    "                      - a folder with the four MNIST idx files (raw or\n"
    "                        .gz): trains on train-*, tests on t10k-*;\n"
    "                      - a folder of class folders DIR/0 ... DIR/9 holding\n"
    "                        images (PNG, JPEG, BMP, GIF, PGM), each read the\n"
    "                        way predict reads it; their order is fixed (sorted,\n"
    "                        then shuffled with a fixed seed);\n"
    "                      - a .csv file in the layout of Kaggle's Digit\n"
    "                        Recognizer train.csv: header label,pixel0..pixel783,\n"
    "                        one image a row, 0..255, white ink on black\n"
    "  --test DIR|CSV      the test set, of any of those kinds (an idx folder:\n"
    "                      its t10k files). Default: the t10k files of an idx\n"
    "                      --data; an image folder or a CSV has no test set\n"
    "                      without --test (the validation figures are then the\n"
    "                      only held-out ones, and the model stores no\n"
    "                      test_accuracy)\n"
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
    "  --normalize MEAN STD  feed the network (x - MEAN) / STD (x in 0..1),\n"
    "                      stored in the model: predict, eval, the page apply it\n"
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
    "usage: digits eval [--model FILE]... --data DIR|CSV [--json] [--report DIR]\n"
    "                   [--limit N]\n"
    "\n"
    "Evaluates a model (several --model flags: an ensemble) on a test set:\n"
    "accuracy, mean loss, per-class precision, recall and F1, and the\n"
    "confusion matrix (rows: true digit, columns: predicted).\n"
    "\n"
    "  --model FILE   model file (default as for predict)\n"
    "  --data DIR|CSV the test set (required): an MNIST idx folder (its t10k\n"
    "                 files), a folder of class folders DIR/0 ... DIR/9 of\n"
    "                 images (read as predict reads them), or a labelled CSV\n"
    "                 (Kaggle's train.csv layout: label,pixel0..pixel783)\n"
    "  --json         print one JSON object instead: data, data_kind (idx,\n"
    "                 images, csv), split, models ([{file, accuracy, loss}]),\n"
    "                 count, correct, accuracy, loss, classes ([{class,\n"
    "                 precision, recall, f1, support}]), macro, confusion\n"
    "                 ([true][predicted]), report (its index.html or null)\n"
    "  --report DIR   also write DIR/index.html with pictures: confusion\n"
    "                 matrix, misclassified digits, training curves\n"
    "  --limit N      only the first N test images\n"
    "  --threads N    threads for the network\n";

static const char help_info[] =
    "usage: digits info [--json] FILE\n"
    "\n"
    "Prints a model file's layers with output shapes and parameter counts,\n"
    "the totals, the file size and all stored metadata.\n"
    "\n"
    "  --json   one JSON object instead: file, file_size, architecture,\n"
    "           input_size, output_size, layers ([{name, kind, output_shape\n"
    "           (null for the batch), params, trainable_params, state}]),\n"
    "           total_params, trainable_params, non_trainable_params,\n"
    "           metadata (an object of strings)\n";

static const char help_convert[] =
    "usage: digits convert IN OUT [--normalize MEAN STD]\n"
    "\n"
    "Converts a model between formats, chosen by the extensions:\n"
    "  .onnx -> .safetensors   imports an ONNX model (opsets 9-21; Conv,\n"
    "                          Gemm, MatMul+Add, BatchNormalization, pools,\n"
    "                          Relu, Sigmoid, Tanh, Softmax, Flatten, ...);\n"
    "                          an unsupported node is named, nothing written\n"
    "  .safetensors -> .onnx   exports (opset 13, input [N,1,28,28] 0..1,\n"
    "                          output the class probabilities)\n"
    "  .safetensors -> .safetensors   with --normalize\n"
    "\n"
    "  --normalize MEAN STD   store the input normalisation (x - MEAN) / STD\n"
    "                         that predict, eval and the page then apply\n"
    "                         (PyTorch's MNIST recipe: 0.1307 0.3081)\n"
    "\n"
    "OUT is written atomically.\n";

int cli_help(FILE *f, const char *verb) {
  if (!verb) {
    fputs(overview, f);
    return 0;
  }
  const char *t = strcmp(verb, "predict") == 0 ? help_predict
                  : strcmp(verb, "train") == 0 ? help_train
                  : strcmp(verb, "eval") == 0  ? help_eval
                  : strcmp(verb, "info") == 0  ? help_info
                  : strcmp(verb, "convert") == 0 ? help_convert
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
    return cli_usage(NULL, "no verb given (predict, train, eval, info, convert, help)");
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
                            : strcmp(verb, "convert") == 0 ? cmd_convert
                                                         : NULL;
  if (!fn) {
    if (verb[0] == '-')
      return cli_usage(NULL, "unknown option \"%s\" (see 'digits --help')", verb);
    return cli_usage(NULL, "unknown verb \"%s\" (predict, train, eval, info, convert, help)",
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
