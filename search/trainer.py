"""Training a network: the resumable `Trainer`, and `train(...)` on numpy arrays for search children.

Works on any nn.Module whose forward returns logits, or (logits, aux_logits) in training mode
when an auxiliary head is on (its loss is weighted by `aux_weight`, 0.4 in NASNet). Compiled
networks also get `set_progress(step / total)`, which scales their ScheduledDropPath.

Data: torch Datasets yielding (float32 [3, H, W], label). In-memory sets (attributes `x`, `y`
tensors, and optionally `augment_batch(xb, generator)`) are indexed directly, a whole batch at a
time; any other Dataset streams through a DataLoader with worker processes. Under
`torch.distributed` (torchrun) the model is wrapped in DistributedDataParallel and each rank
trains on its share of every global batch of `batch_size` images.

Evaluation uses the batch-norm running averages, or with `precise_bn` N (PreciseBN, Wu & Johnson
2021) statistics recomputed on N training images with the weights being evaluated, put back after:
after a few dozen steps the running averages still lag far behind the weights (momentum 0.1 keeps
0.9^k of the statistics k steps old), and a short training scores mostly that lag.

Resuming: the learning rate and drop-path schedules are functions of the step over
`config.epochs`, and `state_dict()` holds the model, optimizer, step, epoch, every RNG state
(per rank), the EMA weights and the AMP scaler, so training epochs 0..k, saving, and continuing in
a new Trainer gives bitwise the same weights on the CPU as one uninterrupted run.
"""
from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
from torch import nn

OPTIMIZERS = ("sgd", "rmsprop")
SCHEDULES = ("cosine", "exponential")
DECAYED = ("all", "weights")  # weight decay on every parameter, or on the conv and linear weights alone


class ChildDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


class SettingError(ValueError):
    """A TrainConfig setting that cannot work: `field` names it, `reason` says why. The commands
    report it by their flag of the same name (`flag_message`)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field, self.reason = field, reason

    def flag_message(self) -> str:
        return f"--{self.field.replace('_', '-')} {self.reason}"


def training_steps(data, batch_size: int, world: int = 1) -> int:
    """Optimizer steps in an epoch of `data`: its batches (each rank's share of one) of 2 images or
    more; a batch norm cannot train on one."""
    if in_memory(data):
        n, b = len(data.y), batch_size
        return sum(1 for i in range(0, n, b) if min(b, n - i) // world >= 2)
    n, per = math.ceil(len(data) / world), max(batch_size // world, 1)
    return sum(1 for i in range(0, n, per) if min(per, n - i) >= 2)


def check_steps(steps: int, data, batch_size: int, world: int = 1) -> None:
    """SettingError when an epoch would take no step: the training would end untrained."""
    if steps == 0:
        over = f" over {world} processes" if world > 1 else ""
        raise SettingError("batch_size", f"{batch_size} makes no training step of the {len(data)} training "
                                         f"images{over}: a step needs 2 or more images per process (batch norm)")


# TrainConfig fields added after configs were first stored (runs, caches of trainings), each with
# the value that trains as the code did before it existed
LATER_FIELDS = {"weight_decay_on": "all", "bn_momentum": 0.0}


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings. The defaults are the `cifar` recipe (what children train with)."""

    epochs: int = 4
    batch_size: int = 64  # the global batch (all ranks together)
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 3e-4
    weight_decay_on: str = "all"  # all (DARTS) | weights: not batch norm nor biases (TF-slim's l2 regularizer)
    grad_clip: float = 5.0  # max global gradient norm; 0 = off
    aux_weight: float = 0.4
    eval_batch: int = 500
    optimizer: str = "sgd"  # sgd | rmsprop (TF semantics: mean square starts at 1, eps inside the sqrt)
    rmsprop_decay: float = 0.9
    rmsprop_eps: float = 1.0
    schedule: str = "cosine"  # cosine (per step, to 0) | exponential (staircase)
    lr_decay: float = 0.97  # exponential: multiply by this ...
    lr_decay_epochs: float = 2.4  # ... every this many epochs
    label_smoothing: float = 0.0
    ema_decay: float = 0.0  # parameter EMA used for evaluation; 0 = off
    precise_bn: int = 0  # evaluate with batch-norm statistics recomputed on this many training images; 0 = off
    # batch-norm running averages' momentum (PyTorch's: 1 - TF's decay); 0 = the layers' own (0.1)
    bn_momentum: float = 0.0

    @staticmethod
    def from_dict(d: dict) -> TrainConfig:
        """A config from `to_dict`'s output (a field added since: its default)."""
        known = {f.name for f in fields(TrainConfig)}
        return TrainConfig(**{k: v for k, v in d.items() if k in known})

    def to_dict(self) -> dict:
        return asdict(self)

    def key(self) -> dict:
        """to_dict less the fields added since configs were first stored where they train as before
        them (LATER_FIELDS): a config stored without one keys as it trained (caches of trainings)."""
        return {k: v for k, v in self.to_dict().items() if not (k in LATER_FIELDS and LATER_FIELDS[k] == v)}

    def check(self) -> TrainConfig:
        """Raise SettingError naming the first setting that cannot work."""
        for name in ("epochs", "batch_size", "eval_batch"):
            if getattr(self, name) < 1:
                raise SettingError(name, f"must be at least 1, got {getattr(self, name)}")
        if not 0 < self.lr < math.inf:
            raise SettingError("lr", f"must be positive, got {self.lr}")
        for name in ("weight_decay", "grad_clip", "aux_weight"):  # grad_clip 0: off
            if not 0 <= getattr(self, name) < math.inf:
                raise SettingError(name, f"must be 0 or more, got {getattr(self, name)}")
        for name in ("momentum", "rmsprop_decay", "bn_momentum"):
            if not 0 <= getattr(self, name) <= 1:
                raise SettingError(name, f"must be in [0, 1], got {getattr(self, name)}")
        if not 0 < self.rmsprop_eps < math.inf:
            raise SettingError("rmsprop_eps", f"must be positive, got {self.rmsprop_eps}")
        if self.optimizer not in OPTIMIZERS:
            raise SettingError("optimizer", f"must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.weight_decay_on not in DECAYED:
            raise SettingError("weight_decay_on", f"must be one of {', '.join(DECAYED)}, got {self.weight_decay_on!r}")
        if self.schedule not in SCHEDULES:
            raise SettingError("schedule", f"must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.precise_bn < 0:
            raise SettingError("precise_bn", f"must be 0 (off) or a number of images, got {self.precise_bn}")
        for name in ("label_smoothing", "ema_decay"):
            if not 0 <= getattr(self, name) < 1:
                raise SettingError(name, f"must be in [0, 1), got {getattr(self, name)}")
        if self.schedule == "exponential" and not 0 < self.lr_decay <= 1:
            raise SettingError("lr_decay", f"must be in (0, 1] for the exponential schedule, got {self.lr_decay}")
        if self.schedule == "exponential" and not self.lr_decay_epochs > 0:
            raise SettingError("lr_decay_epochs", f"must be positive, got {self.lr_decay_epochs}")
        return self


@dataclass(frozen=True)
class TrainResult:
    accuracy: float  # on the held-out split
    loss: float  # mean training loss of the last epoch
    steps: int
    seconds: float


class ArrayDataset(torch.utils.data.Dataset):
    """Images [N, 3, H, W] float32 and labels [N] int64 held in memory (numpy or torch), no
    augmentation: what `train(...)` wraps its arrays in."""

    def __init__(self, x, y):
        self.x = torch.as_tensor(x)
        self.y = torch.as_tensor(y, dtype=torch.int64)
        if len(self.x) != len(self.y):
            raise ValueError(f"{len(self.x)} images but {len(self.y)} labels")

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return self.x[i], int(self.y[i])

    def augment_batch(self, xb: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return xb


class TFRMSprop(torch.optim.Optimizer):
    """RMSProp as TensorFlow (and so the NASNet paper) defines it, which differs from
    torch.optim.RMSprop where it matters with eps = 1.0: the mean square starts at 1, eps is added
    inside the square root, the learning rate is applied inside the momentum, and weight decay is
    an L2 term added to the gradient.
        ms = decay * ms + (1 - decay) * g^2;  mom = momentum * mom + lr * g / sqrt(ms + eps);  p -= mom
    """

    def __init__(self, params, lr: float, decay: float = 0.9, eps: float = 1.0, momentum: float = 0.9,
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, decay=decay, eps=eps, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["ms"] = torch.ones_like(p)
                    state["mom"] = torch.zeros_like(p)
                ms, mom = state["ms"], state["mom"]
                ms.mul_(group["decay"]).addcmul_(g, g, value=1 - group["decay"])
                mom.mul_(group["momentum"]).addcdiv_(g, (ms + group["eps"]).sqrt_(), value=group["lr"])
                p.sub_(mom)


class ParameterEma:
    """An exponential moving average of the parameters and of the float buffers (batch-norm running
    statistics, as TF-slim's moving averages of the model variables and timm's ModelEmaV2 take them;
    they were copied from the trained model, so the averaged weights were scored with the last few
    steps' statistics), evaluated in place of the trained weights. TF's ExponentialMovingAverage
    with num_updates: the decay is min(decay, (1 + n) / (10 + n)), so early averages are not
    dominated by the random init. Integer buffers (batches tracked) are copied."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay, self.updates = decay, 0
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for e, p in zip(self.model.parameters(), model.parameters()):
            e.lerp_(p.detach(), 1.0 - d)
        for e, b in zip(self.model.buffers(), model.buffers()):
            if e.is_floating_point():
                e.lerp_(b, 1.0 - d)
            else:
                e.copy_(b)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])


def cosine_lr(lr: float, step: int, total: int, floor: float = 0.0) -> float:
    """Cosine annealing from `lr` at step 0 to `floor` at step `total` (and after)."""
    return floor + 0.5 * (lr - floor) * (1 + math.cos(math.pi * min(step, total) / max(total, 1)))


def set_progress(model: nn.Module, fraction: float) -> None:
    """Tell the network how far training has come (0..1): compiled networks scale ScheduledDropPath
    by it through their `set_progress`; other modules are left alone."""
    hook = getattr(model, "set_progress", None)
    if callable(hook):
        hook(fraction)


def _split_logits(out) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(out, (tuple, list)):
        return out[0], (out[1] if len(out) > 1 else None)
    return out, None


def in_memory(data) -> bool:
    """True for data sets the trainer indexes directly (tensors `x` and `y`)."""
    return isinstance(getattr(data, "x", None), torch.Tensor) and isinstance(getattr(data, "y", None), torch.Tensor)


def _dist():
    """(rank, world size) under torch.distributed, else (0, 1)."""
    d = torch.distributed
    if d.is_available() and d.is_initialized():
        return d.get_rank(), d.get_world_size()
    return 0, 1


class Trainer:
    """Trains `model` epoch by epoch; see the module docstring. `device`: "auto", "cpu", "cuda",
    "cuda:N" or a torch.device. `amp`: mixed precision on CUDA (bf16 where supported, else fp16
    with a GradScaler); ignored on the CPU. `channels_last`: None = on for CUDA. `workers`:
    DataLoader processes for streaming sets."""

    def __init__(self, model: nn.Module, config: TrainConfig, train_data, val_data=None, *, seed: int = 0,
                 device="cpu", amp: bool = False, channels_last: bool | None = None, workers: int = 2,
                 check_every: int | None = None):
        from .devices import amp_dtype, resolve_device

        self.config = config.check()
        self.train_data, self.val_data = train_data, val_data
        self.seed, self.workers = seed, workers
        self.device = resolve_device(device) if isinstance(device, str) else torch.device(device)
        self.rank, self.world = _dist()
        if config.batch_size % self.world:  # DDP would average unequal shares' means, not the batch's
            raise SettingError("batch_size", f"{config.batch_size} must be a multiple of the {self.world} processes")
        self.amp_dtype = amp_dtype(self.device) if amp else None
        cuda = self.device.type == "cuda"
        if cuda:
            torch.cuda.set_device(self.device)
        self.memory_format = torch.channels_last if (cuda if channels_last is None else channels_last) \
            else torch.contiguous_format
        # loss checks sync the GPU, so there they happen every few steps; on the CPU every step
        self.check_every = check_every or (20 if cuda else 1)
        torch.manual_seed(seed)
        self.model = model.to(self.device, memory_format=self.memory_format)
        if config.bn_momentum:
            for m in self.model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.momentum = config.bn_momentum
        self.net: nn.Module = self.model
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.net = DistributedDataParallel(self.model, device_ids=[self.device.index] if cuda else None)
        self.optimizer = self._optimizer()
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.ema = ParameterEma(self.model, config.ema_decay) if config.ema_decay > 0 else None
        self.lossf = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        self.data_gen = torch.Generator().manual_seed(seed)  # batch order (in-memory sets)
        self.augment_gen = torch.Generator().manual_seed(seed + 1)  # augment_batch draws
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken
        self.steps_per_epoch = self._count_batches()
        check_steps(self.steps_per_epoch, train_data, config.batch_size, self.world)
        self.total_steps = max(config.epochs * self.steps_per_epoch, 1)

    # -- setup
    def _optimizer(self) -> torch.optim.Optimizer:
        c, params = self.config, list(self.model.parameters())
        if c.weight_decay_on == "weights":  # batch-norm scales and shifts, biases: one dimension
            params = [{"params": [p for p in params if p.dim() > 1]},
                      {"params": [p for p in params if p.dim() <= 1], "weight_decay": 0.0}]
        if c.optimizer == "rmsprop":
            return TFRMSprop(params, lr=c.lr, decay=c.rmsprop_decay, eps=c.rmsprop_eps, momentum=c.momentum,
                             weight_decay=c.weight_decay)
        return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)

    def _count_batches(self) -> int:
        return training_steps(self.train_data, self.config.batch_size, self.world)

    def _per_rank_batch(self) -> int:
        return max(self.config.batch_size // self.world, 1)

    def lr_at(self, step: int) -> float:
        """The learning rate of optimizer step `step` (0-based)."""
        c = self.config
        if c.schedule == "exponential":
            epochs = step / max(self.steps_per_epoch, 1)
            return c.lr * c.lr_decay ** math.floor(epochs / c.lr_decay_epochs)
        return cosine_lr(c.lr, step, self.total_steps)

    # -- batches
    def _train_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        data, b = self.train_data, self.config.batch_size
        if in_memory(data):
            # the same global order and augmentation on every rank; each rank keeps its rows
            order = torch.randperm(len(data.y), generator=self.data_gen)
            augment = getattr(data, "augment_batch", None)
            for i in range(0, len(order), b):
                idx = order[i:i + b]
                if len(idx) // self.world < 2:
                    continue  # a batch norm cannot train on one image; same rule on every rank
                xb, yb = data.x[idx], data.y[idx]
                if augment is not None:
                    xb = augment(xb, self.augment_gen)
                if self.world > 1:
                    xb, yb = xb[self.rank::self.world], yb[self.rank::self.world]
                yield xb, yb
            return
        from torch.utils.data import DataLoader, DistributedSampler

        sampler = DistributedSampler(data, num_replicas=self.world, rank=self.rank, shuffle=True, seed=self.seed)
        sampler.set_epoch(self.epoch)
        # a fresh loader per epoch, seeded by the epoch: worker augmentations replay on resume
        loader = DataLoader(data, batch_size=self._per_rank_batch(), sampler=sampler, num_workers=self.workers,
                            pin_memory=self.device.type == "cuda",
                            generator=torch.Generator().manual_seed(self.seed * 100_003 + self.epoch))
        for xb, yb in loader:
            if len(yb) >= 2:
                yield xb, torch.as_tensor(yb, dtype=torch.int64)

    def _to_device(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        nb = self.device.type == "cuda"
        return (xb.to(self.device, non_blocking=nb, memory_format=self.memory_format),
                yb.to(self.device, non_blocking=nb))

    def _autocast(self):
        if self.amp_dtype is None:
            return torch.autocast("cpu", enabled=False)
        return torch.autocast("cuda", dtype=self.amp_dtype)

    # -- training
    def train_epoch(self) -> dict:
        """Train one epoch; returns {"epoch" (epochs completed, 1-based), "loss" (mean training
        loss), "seconds", "images_per_s"}. Raises ChildDiverged on a NaN/inf loss."""
        if self.epoch >= self.config.epochs:
            raise RuntimeError(f"all {self.config.epochs} epochs are trained")
        c = self.config
        start = time.perf_counter()
        self.net.train()
        params = [p for p in self.model.parameters() if p.requires_grad]
        on_cpu = self.device.type == "cpu"
        running = 0.0 if on_cpu else torch.zeros((), device=self.device)
        seen = 0
        for n, (xb, yb) in enumerate(self._train_batches()):
            xb, yb = self._to_device(xb, yb)
            lr = self.lr_at(self.step)
            for g in self.optimizer.param_groups:
                g["lr"] = lr
            set_progress(self.model, self.step / self.total_steps)
            with self._autocast():
                logits, aux = _split_logits(self.net(xb))
                loss = self.lossf(logits.float(), yb)
                if aux is not None:
                    loss = loss + c.aux_weight * self.lossf(aux.float(), yb)
            if n % self.check_every == 0:
                self._check_finite(loss)
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.unscale_(self.optimizer)
            else:
                loss.backward()
            if c.grad_clip > 0:
                nn.utils.clip_grad_norm_(params, c.grad_clip)
            if self.scaler is not None:
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                self.optimizer.step()
            if self.ema is not None:
                self.ema.update(self.model)
            running += loss.item() * len(yb) if on_cpu else loss.detach().float() * len(yb)
            seen += len(yb)
            self.step += 1
        total = torch.tensor([float(running), float(seen)], dtype=torch.float64)
        if self.world > 1:
            self._sync_buffers()
            total = self._all_reduce(total)
        loss_value, images = float(total[0]), int(total[1])
        if not math.isfinite(loss_value):
            raise ChildDiverged(f"training loss is {loss_value} in epoch {self.epoch}")
        if not self._state_finite():
            raise ChildDiverged(f"weights or batch-norm statistics are not finite after epoch {self.epoch + 1}")
        self.epoch += 1
        seconds = time.perf_counter() - start
        return {"epoch": self.epoch, "loss": loss_value / max(images, 1), "seconds": seconds,
                "images_per_s": images / max(seconds, 1e-9)}

    def _check_finite(self, loss: torch.Tensor) -> None:
        if not self._on_every_rank(torch.isfinite(loss.detach())):
            raise ChildDiverged(f"training loss is {loss.item()} at step {self.step} (epoch {self.epoch})")

    def _state_finite(self) -> bool:
        """Every weight and buffer finite: a finite loss can still leave them overflowed (a last step
        that blew up, or running variances gone to inf), and such a model evaluates to noise."""
        state = [t.detach() for t in self.model.state_dict().values() if t.is_floating_point()]
        return self._on_every_rank(torch.stack([torch.isfinite(t).all() for t in state]).all() if state
                                   else torch.ones((), dtype=torch.bool))

    def _on_every_rank(self, ok: torch.Tensor) -> bool:
        """A check's outcome (a one-element bool tensor) true on every rank: under torch.distributed
        every rank must stop together, or the others hang in the next all-reduce."""
        ok = ok.float()
        if self.world > 1:
            ok = self._all_reduce(ok.reshape(1).cpu().double(), op="min")[0]
        return bool(ok)

    def _all_reduce(self, t: torch.Tensor, op: str = "sum") -> torch.Tensor:
        d = torch.distributed
        backend = d.get_backend()
        t = t.to(self.device) if backend == "nccl" else t.cpu()
        d.all_reduce(t, op=d.ReduceOp.MIN if op == "min" else d.ReduceOp.SUM)
        return t.cpu()

    def _sync_buffers(self) -> None:
        """Batch-norm statistics from rank 0 to all (each rank saw other images), so every rank
        holds the same model, and the same EMA model, after an epoch."""
        ema = list(self.ema.model.buffers()) if self.ema is not None else []
        for b in [*self.model.buffers(), *ema]:
            torch.distributed.broadcast(b.data, src=0)

    def replica_difference(self) -> float:
        """Under torch.distributed: the largest difference between any rank's weights and buffers
        (the EMA model's too) and rank 0's (0.0 when the replicas are identical, as they should be);
        0.0 alone."""
        if self.world == 1:
            return 0.0
        models = [self.model] + ([self.ema.model] if self.ema is not None else [])
        tensors = [t.detach().float().reshape(-1) for m in models for t in m.state_dict().values()
                   if t.is_floating_point()]
        flat = torch.cat(tensors)
        ref = flat.clone()
        torch.distributed.broadcast(ref, src=0)
        diff = (flat - ref).abs().max().reshape(1).double()
        torch.distributed.all_reduce(diff, op=torch.distributed.ReduceOp.MAX)
        return float(diff[0])

    # -- evaluation
    @torch.no_grad()
    def evaluate(self, data=None) -> dict:
        """{"top1", "top5", "loss"} on `data` (default: the held-out set), with the EMA weights
        when EMA is on; under torch.distributed each rank scores a share and the sums are added."""
        data = self.val_data if data is None else data
        if data is None:
            raise ValueError("no data to evaluate on")
        model = self.ema.model if self.ema is not None else self.model
        sums = torch.zeros(4, dtype=torch.float64)  # top1, top5, loss sum, count
        lossf = nn.CrossEntropyLoss(reduction="sum")
        with self._precise_bn(model):
            model.eval()
            for xb, yb in self._eval_batches(data):
                xb, yb = self._to_device(xb, yb)
                with self._autocast():
                    logits, _ = _split_logits(model(xb))
                logits = logits.float()
                k = min(5, logits.shape[1])
                top = logits.topk(k, dim=1).indices
                hit = top == yb[:, None]
                sums += torch.tensor([float(hit[:, 0].sum()), float(hit.any(1).sum()),
                                      float(lossf(logits, yb)), float(len(yb))], dtype=torch.float64)
        if self.world > 1:
            sums = self._all_reduce(sums)
        n = max(float(sums[3]), 1.0)
        return {"top1": float(sums[0]) / n, "top5": float(sums[1]) / n, "loss": float(sums[2]) / n}

    @contextlib.contextmanager
    def _precise_bn(self, model: nn.Module):
        """With `precise_bn` N, inside the block `model`'s batch-norm statistics are those of the first N
        training images (unaugmented, everything else in eval mode: no drop path or dropout; under
        torch.distributed each rank takes N / world of its share and the ranks' statistics are
        averaged); after it, its running averages again, so training goes on unchanged."""
        norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
        if not self.config.precise_bn or not norms:
            yield
            return
        saved = [(m.momentum, {k: v.clone() for k, v in m.state_dict().items()}) for m in norms]
        try:
            model.eval()
            for m in norms:
                m.reset_running_stats()
                m.momentum = None  # a plain mean over the batches
                m.train()
            left = math.ceil(self.config.precise_bn / self.world)  # each rank its share of the images
            with torch.no_grad():
                for xb, yb in self._eval_batches(self.train_data):
                    xb, _ = self._to_device(xb[:left], yb[:left])
                    with self._autocast():
                        model(xb)
                    left -= len(xb)
                    if left <= 0:
                        break
            if self.world > 1:
                for m in norms:
                    for b in (m.running_mean, m.running_var):
                        b.copy_(self._all_reduce(b.detach().clone()) / self.world)
            model.eval()
            yield
        finally:
            for m, (momentum, state) in zip(norms, saved):
                m.momentum = momentum
                m.load_state_dict(state)

    def _eval_batches(self, data) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        b = self.config.eval_batch
        if in_memory(data):
            idx = torch.arange(self.rank, len(data.y), self.world)
            for i in range(0, len(idx), b):
                yield data.x[idx[i:i + b]], data.y[idx[i:i + b]]
            return
        from torch.utils.data import DataLoader, Subset

        share = Subset(data, range(self.rank, len(data), self.world))
        loader = DataLoader(share, batch_size=b, shuffle=False, num_workers=self.workers,
                            pin_memory=self.device.type == "cuda",
                            generator=torch.Generator().manual_seed(self.seed))  # not the global RNG
        for xb, yb in loader:
            yield xb, torch.as_tensor(yb, dtype=torch.int64)

    # -- checkpoints
    def _rng_state(self) -> dict:
        state = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def state_dict(self) -> dict:
        """Everything needed to continue: model, optimizer, step, epoch, RNG states (of every rank:
        under torch.distributed all ranks must call this together), EMA weights, AMP scaler."""
        ranks = [self._rng_state()]
        if self.world > 1:
            ranks = [None] * self.world
            torch.distributed.all_gather_object(ranks, self._rng_state())
            ranks = [{k: v.cpu() for k, v in r.items()} for r in ranks]
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "epoch": self.epoch, "step": self.step, "seed": self.seed,
            "config": self.config.to_dict(),
            "rng": {"ranks": ranks, "data": self.data_gen.get_state(), "augment": self.augment_gen.get_state()},
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state_dict()`'s output (model, optimizer, schedule, RNG, EMA, scaler)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None:
            if state.get("ema"):
                self.ema.load_state_dict(state["ema"])
            else:  # EMA switched on while resuming: start it from the current weights
                self.ema = ParameterEma(self.model, self.config.ema_decay)
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        rng = state["rng"]
        mine = rng["ranks"][self.rank] if self.rank < len(rng["ranks"]) else rng["ranks"][0]
        torch.set_rng_state(mine["torch"].cpu())
        if self.device.type == "cuda" and "cuda" in mine:
            torch.cuda.set_rng_state(mine["cuda"].cpu(), self.device)
        self.data_gen.set_state(rng["data"])
        self.augment_gen.set_state(rng["augment"])


@torch.no_grad()
def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 500) -> float:
    """Top-1 accuracy in eval mode, on numpy arrays (CPU)."""
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        logits, _ = _split_logits(model(torch.from_numpy(x[i:i + batch])))
        correct += int((logits.argmax(1) == torch.from_numpy(y[i:i + batch])).sum())
    return correct / max(len(x), 1)


def train(model: nn.Module, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
          config: TrainConfig = TrainConfig(), seed: int = 0,
          on_epoch: Callable[[int, float, float], None] | None = None, *, device="cpu",
          amp: bool = False) -> TrainResult:
    """Train `model` in place on arrays and return its held-out accuracy. Raises ChildDiverged on
    NaN/inf. `on_epoch(epoch, loss, seconds so far)` after each epoch (0-based)."""
    start = time.perf_counter()
    trainer = Trainer(model, config, ArrayDataset(x_train, y_train), ArrayDataset(x_val, y_val), seed=seed,
                      device=device, amp=amp)
    last_loss = float("nan")
    for epoch in range(config.epochs):
        last_loss = trainer.train_epoch()["loss"]
        if on_epoch is not None:
            on_epoch(epoch, last_loss, time.perf_counter() - start)
    acc = trainer.evaluate()["top1"]
    return TrainResult(acc, last_loss, trainer.step, time.perf_counter() - start)
