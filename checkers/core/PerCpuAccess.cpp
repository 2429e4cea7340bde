#include "core/PerCpuAccess.h"
#include "core/ContextEngine.h"
#include "core/KernelApi.h"
#include "core/SpelledCall.h"
#include "clang/AST/Attr.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace clang;

namespace rtcheck {

bool isPerCpuVariable(const VarDecl *VD) {
  const auto *S = VD ? VD->getAttr<SectionAttr>() : nullptr;
  return S && S->getName().startswith(".data..percpu");
}

// "&napi_alloc_cache.page" -> "napi_alloc_cache"; "pool->cache" -> "->cache".
// "(const void __percpu *)(const uintptr_t)ptr" -> "ptr": the leading
// parenthesised groups that are casts (no operator inside, something after).
static StringRef withoutCasts(StringRef T) {
  for (T = T.trim(); T.startswith("(");) {
    size_t Depth = 0, End = 0;
    for (size_t I = 0; I < T.size() && !End; ++I)
      if (T[I] == '(')
        ++Depth;
      else if (T[I] == ')' && --Depth == 0)
        End = I;
    StringRef Group = T.slice(1, End), Rest = T.substr(End + 1).trim();
    if (!End || Rest.empty() || Group.find_first_of("&.-+[(") != StringRef::npos)
      break;
    T = Rest;
  }
  return T;
}

std::string perCpuObjectOf(StringRef Spelled) {
  std::string S;
  for (char C : withoutCasts(Spelled))
    if (!isspace((unsigned char)C) && C != '(' && C != ')')
      S += C;
  StringRef T(S);
  T.consume_front("&");
  size_t Arrow = T.rfind("->");
  if (Arrow != StringRef::npos) {
    StringRef Member = T.substr(Arrow + 2);
    return ("->" + Member.take_while([](char C) { return isalnum((unsigned char)C) || C == '_'; }))
        .str();
  }
  return T.take_while([](char C) { return isalnum((unsigned char)C) || C == '_'; }).str();
}

namespace {

bool isPerCpuAccessor(ApiEffect E) {
  return E == ApiEffect::PERCPU_RMW || E == ApiEffect::PERCPU_COUNT ||
         E == ApiEffect::PERCPU_PTR || E == ApiEffect::PERCPU_CPU_PTR ||
         E == ApiEffect::PERCPU_READ;
}

bool locksOrUnlocks(ApiEffect E) {
  switch (E) {
  case ApiEffect::RAW_LOCK: case ApiEffect::RAW_UNLOCK: case ApiEffect::RAW_TRYLOCK:
  case ApiEffect::RT_LOCK: case ApiEffect::RT_LOCK_BH: case ApiEffect::LOCAL_LOCK:
  case ApiEffect::RT_UNLOCK: case ApiEffect::RT_UNLOCK_BH: case ApiEffect::RT_TRYLOCK:
  case ApiEffect::SLEEPING_LOCK: case ApiEffect::SLEEPING_UNLOCK:
    return true;
  default:
    return false;
  }
}

class AccessFinder : public RecursiveASTVisitor<AccessFinder> {
public:
  AccessFinder(ASTContext &Ctx) : Ctx(Ctx), SM(Ctx.getSourceManager()), LO(Ctx.getLangOpts()) {}
  std::vector<PerCpuAccess> Accesses;

  bool VisitStmt(Stmt *S) {
    SourceLocation B = S->getBeginLoc(), E = S->getEndLoc();
    if (!B.isMacroID() || !E.isMacroID())
      return true;
    // Inside an accessor written in the function and judged already: its
    // hundreds of inner statements are not accesses.
    if (AccessorExpansions.count(SM.getExpansionLoc(B).getRawEncoding()))
      return true;
    SourceLocation Site, EndSite;
    auto Names = spelledMacros(B, SM, LO, Site);
    if (Names.empty() || BySite.count(Site.getRawEncoding()))
      return true;
    spelledMacros(E, SM, LO, EndSite);
    if (EndSite != Site) // not the whole accessor: "this_cpu_ptr(&v)->next"
      return true;
    const ApiEntry *A = lookupApi(Names.front());
    if (!A)
      return true;
    // The accessor's own internals (raw_cpu_ptr() inside __this_cpu_read())
    // are not accesses, whether the accessor itself counts or not.
    BySite[Site.getRawEncoding()] = ~size_t(0);
    if (isPerCpuAccessor(A->Effect) && SM.getExpansionLoc(B) == Site)
      AccessorExpansions.insert(Site.getRawEncoding());
    PerCpuAccess Acc;
    switch (A->Effect) {
    case ApiEffect::PERCPU_PTR:
      Acc.Kind = PerCpuAccessKind::Pointer;
      break;
    case ApiEffect::PERCPU_CPU_PTR: // this CPU's only with smp_processor_id()
      if (spelledArgument(SM, Site, 1).find("smp_processor_id") == std::string::npos)
        return true;
      Acc.Kind = PerCpuAccessKind::Pointer;
      break;
    case ApiEffect::PERCPU_RMW:
    case ApiEffect::PERCPU_COUNT:
      Acc.Kind = PerCpuAccessKind::Update;
      Acc.Counter = A->Effect == ApiEffect::PERCPU_COUNT;
      break;
    case ApiEffect::PERCPU_READ: { // a pointer read: the object it points to
      const auto *Ex = dyn_cast<Expr>(S);
      if (!Ex)
        return true;
      Acc.Kind = Ex->getType()->isPointerType() ? PerCpuAccessKind::Read
                                                : PerCpuAccessKind::ValueRead;
      break;
    }
    default:
      return true;
    }
    Acc.Site = Site;
    Acc.ValueUsed = valueUsed(S);
    Acc.Api = Names.front().str();
    Acc.Spelled = spelledArgument(SM, Site, A->Arg < 0 ? 0 : A->Arg);
    Acc.Object = perCpuObjectOf(Acc.Spelled);
    Acc.Written = Acc.Api + "(" + Acc.Spelled +
                  (A->Effect == ApiEffect::PERCPU_CPU_PTR ? ", " + spelledArgument(SM, Site, 1) : "") +
                  ")";
    Acc.Root = S;
    Acc.Var = writtenPerCpuVar(S, Site);
    if (Acc.Var) {
      Acc.Object = Acc.Var->getName().str();
      const auto *RT = Acc.Var->getType()->getAs<RecordType>();
      Acc.SharedStruct =
          RT && !SM.isInMainFile(SM.getExpansionLoc(RT->getDecl()->getLocation()));
      Acc.Field = fieldOf(*Acc.Var, Acc.Spelled);
    }
    if (Acc.Object.empty())
      return true;
    BySite[Site.getRawEncoding()] = Accesses.size();
    Accesses.push_back(std::move(Acc));
    return true;
  }

  // Parents of the statement being visited, for valueUsed().
  bool TraverseStmt(Stmt *S) {
    if (!S)
      return true;
    Parents.push_back(S);
    bool Ok = RecursiveASTVisitor::TraverseStmt(S);
    Parents.pop_back();
    return Ok;
  }

  bool VisitVarDecl(VarDecl *VD) {
    if (VD->getInit() && VD->isLocalVarDecl())
      Stores.push_back({VD, VD->getInit()});
    return true;
  }
  bool VisitBinaryOperator(BinaryOperator *Op) {
    if (Op->getOpcode() == BO_Assign)
      if (const auto *R = dyn_cast<DeclRefExpr>(Op->getLHS()->IgnoreParenImpCasts()))
        if (const auto *VD = dyn_cast<VarDecl>(R->getDecl()); VD && VD->isLocalVarDecl())
          Stores.push_back({VD, Op->getRHS()});
    return true;
  }

  bool VisitDeclRefExpr(DeclRefExpr *R) {
    // sizeof(p->x) and typeof() in macros do not touch the data.
    if (R->isNonOdrUse() == NOUR_Unevaluated)
      return true;
    if (const auto *VD = dyn_cast<VarDecl>(R->getDecl()); VD && VD->isLocalVarDecl())
      Refs.push_back({R, ancestors()});
    return true;
  }

  // The uses of the locals, in source order.
  void resolveUses() {
    llvm::SmallPtrSet<PerCpuAccess *, 4> Statistics;
    for (auto &[R, Up] : Refs) {
      bool Stats = false;
      const Stmt *P = Up.empty() ? nullptr : Up[0];
      PerCpuUse U{R, SM.getFileLoc(R->getLocation()), "", nullptr};
      if (const auto *Op = dyn_cast_or_null<BinaryOperator>(P);
          Op && Op->isAssignmentOp() && Op->getLHS()->IgnoreParenImpCasts() == R)
        continue; // the local gets a new value
      if (const auto *M = dyn_cast_or_null<MemberExpr>(P)) {
        // sp->diff of an anonymous union member is sp-><union>.diff.
        for (size_t I = 0; I < Up.size() && U.Member.empty(); ++I)
          if (const auto *Inner = dyn_cast<MemberExpr>(Up[I]); Inner && (I == 0 || !Inner->isArrow()))
            U.Member = Inner->getMemberDecl()->getName().str();
        (void)M;
        U.Kind = fieldUse(Up, Stats);
      }
      // WARN_ON(cpu_t != t), if (!p): the pointer's value, not the data. A
      // loop's end test (list_for_each_entry_safe(pos, n, head, ...): "&pos->
      // member == head") walks a list whose entries the loop may take off.
      bool LoopTest = llvm::any_of(Up, [](const Stmt *S) {
        return isa<ForStmt, WhileStmt, DoStmt>(S);
      });
      if (const auto *B = dyn_cast_or_null<BinaryOperator>(P);
          B && (B->isEqualityOp() || B->isRelationalOp()) && !LoopTest)
        U.Kind = PerCpuUseKind::Read;
      if (const auto *N = dyn_cast_or_null<UnaryOperator>(P); N && N->getOpcode() == UO_LNot)
        U.Kind = PerCpuUseKind::Read;
      // *p: the slot itself, read or written like a field ("orig = *p").
      if (const auto *D = dyn_cast_or_null<UnaryOperator>(P); D && D->getOpcode() == UO_Deref)
        U.Kind = fieldUse(Up, Stats);
      if (const auto *C = dyn_cast_or_null<CallExpr>(P); C && C->getCallee() != R)
        U.ArgOf = C;
      // xchg(p, NULL), WRITE_ONCE(sd->x, v): lockless on purpose.
      for (StringRef Macro : enclosingMacroArgs(R->getLocation(), SM, LO))
        if (hasEffect(Macro, ApiEffect::LOCKLESS))
          U.Kind = PerCpuUseKind::Read;
      // The use belongs to the nearest access before it that stores to the
      // local ("nc = this_cpu_ptr(&a)" in one branch, "&b" in the other).
      PerCpuAccess *Owner = nullptr;
      for (PerCpuAccess &A : Accesses)
        if (A.Local == R->getDecl() && SM.isBeforeInTranslationUnit(A.Site, U.Loc) &&
            (!Owner || SM.isBeforeInTranslationUnit(Owner->Site, A.Site)))
          Owner = &A;
      if (Owner)
        Owner->Uses.push_back(U);
      if (Owner && Stats)
        Statistics.insert(Owner);
    }
    // A block updated inside u64_stats_update_begin()/end() is counters:
    // "stats_counter = &stats->n_missed; (*stats_counter)++" is a count too.
    for (PerCpuAccess *A : Statistics)
      for (PerCpuUse &U : A->Uses)
        if (U.Kind == PerCpuUseKind::Write || U.Kind == PerCpuUseKind::Address)
          U.Kind = PerCpuUseKind::Count;
  }

  // The locals the accessors' values are stored in.
  void resolveLocals() {
    for (auto [VD, Value] : Stores) {
      const Expr *E = Value->IgnoreParenImpCasts();
      // p = (struct rtable **)raw_cpu_ptr(nhc->nhc_pcpu_rth_output)
      while (const auto *Cast = dyn_cast<CStyleCastExpr>(E)) {
        if (!Cast->getType()->isPointerType())
          break;
        E = Cast->getSubExpr()->IgnoreParenImpCasts();
      }
      // pool = &per_cpu(bh_worker_pools, cpu)[highpri], q = &this_cpu_ptr(p)->q:
      // a part of this CPU's object.
      if (const auto *Addr = dyn_cast<UnaryOperator>(E); Addr && Addr->getOpcode() == UO_AddrOf) {
        const Expr *Part = Addr->getSubExpr()->IgnoreParenImpCasts();
        if (const auto *Index = dyn_cast<ArraySubscriptExpr>(Part))
          E = Index->getBase()->IgnoreParenImpCasts();
        else if (const auto *Member = dyn_cast<MemberExpr>(Part))
          E = Member->getBase()->IgnoreParenImpCasts();
      }
      SourceLocation Site, EndSite;
      if (!E->getBeginLoc().isMacroID() || spelledMacros(E->getBeginLoc(), SM, LO, Site).empty())
        continue;
      spelledMacros(E->getEndLoc(), SM, LO, EndSite);
      auto It = BySite.find(Site.getRawEncoding());
      if (EndSite == Site && It != BySite.end() && It->second != ~size_t(0) &&
          !Accesses[It->second].Local)
        Accesses[It->second].Local = VD;
    }
  }

private:
  ASTContext &Ctx;
  const SourceManager &SM;
  const LangOptions &LO;
  llvm::DenseMap<unsigned, size_t> BySite;
  /// Accessors written directly in the function (not in another macro's
  /// argument: unlikely(__this_cpu_read(x)) is judged inside unlikely()).
  llvm::DenseSet<unsigned> AccessorExpansions;
  std::vector<const Stmt *> Parents;
  std::vector<std::pair<const DeclRefExpr *, llvm::SmallVector<const Stmt *, 4>>> Refs;

  // The ancestors of the statement being visited, innermost first, through
  // casts and parens; a few are enough to tell how a field is used.
  llvm::SmallVector<const Stmt *, 4> ancestors() const {
    llvm::SmallVector<const Stmt *, 4> Up;
    for (size_t I = Parents.size() - 1; I-- > 0 && Up.size() < 4;)
      if (!isa<ImplicitCastExpr, ParenExpr>(Parents[I]))
        Up.push_back(Parents[I]);
    return Up;
  }

  // "timer->base = &cpu_base->clock_base[i]": the address Up[At] makes is
  // stored in another object, not used here (a local is followed instead).
  static bool storedAway(llvm::ArrayRef<const Stmt *> Up, size_t At) {
    return At + 1 < Up.size() && storesIntoObject(Up[At + 1], cast<Expr>(Up[At]));
  }

  // "sd->a.b = x", "sd->n++", "&sd->q", "sd->v[i]", or a read; Up[0] is the
  // member expression on the local, further '.' members are the same field.
  PerCpuUseKind fieldUse(llvm::ArrayRef<const Stmt *> Up, bool &Stats) const {
    size_t I = 0;
    for (;;) {
      if (I + 1 < Up.size() && isa<MemberExpr>(Up[I + 1]) &&
          !cast<MemberExpr>(Up[I + 1])->isArrow()) {
        ++I;
        continue;
      }
      // (&p->workers)->next, as list_first_entry(&p->workers, ...) reads it:
      // the same as p->workers.next.
      const auto *Addr = I + 1 < Up.size() ? dyn_cast<UnaryOperator>(Up[I + 1]) : nullptr;
      const auto *Next = I + 2 < Up.size() ? dyn_cast<MemberExpr>(Up[I + 2]) : nullptr;
      if (Addr && Addr->getOpcode() == UO_AddrOf && Next && Next->isArrow() &&
          Next->getBase()->IgnoreParenImpCasts() == Addr) {
        I += 2;
        continue;
      }
      break;
    }
    if (I + 1 >= Up.size())
      return PerCpuUseKind::Read;
    const Stmt *Field = Up[I], *Q = Up[I + 1];
    auto Is = [&](const Expr *E) { return E && E->IgnoreParenImpCasts() == Field; };
    if (const auto *U = dyn_cast<UnaryOperator>(Q)) {
      if (U->isIncrementDecrementOp())
        return PerCpuUseKind::Count;
      if (U->getOpcode() == UO_AddrOf) {
        // list_empty(&sd->poll_list) only looks; spin_trylock(&sk->lock)
        // takes the lock that protects the rest.
        const auto *C = I + 2 < Up.size() ? dyn_cast<CallExpr>(Up[I + 2]) : nullptr;
        const ApiEntry *A = C ? lookupApi(spellCall(C, SM, LO).ApiName) : nullptr;
        // local_dec(&c->nesting): lockless on purpose.
        if (A && (A->Effect == ApiEffect::PEEK || A->Effect == ApiEffect::LOCKLESS ||
                  locksOrUnlocks(A->Effect)))
          return PerCpuUseKind::Read;
        // u64_stats_update_begin(&st->syncp): st is a block of statistics.
        if (A && A->Effect == ApiEffect::STATS)
          return Stats = true, PerCpuUseKind::Count;
        return storedAway(Up, I + 1) ? PerCpuUseKind::Read : PerCpuUseKind::Address;
      }
    }
    if (const auto *C = dyn_cast<CompoundAssignOperator>(Q); C && Is(C->getLHS()))
      return C->getOpcode() == BO_AddAssign || C->getOpcode() == BO_SubAssign
                 ? PerCpuUseKind::Count   // p->bytes += len
                 : PerCpuUseKind::Write;  // p->flags |= x: state
    if (const auto *B = dyn_cast<BinaryOperator>(Q); B && B->isAssignmentOp() && Is(B->getLHS()))
      return PerCpuUseKind::Write;
    if (const auto *A = dyn_cast<ArraySubscriptExpr>(Q); A && Is(A->getBase())) {
      const auto *Addr = I + 2 < Up.size() ? dyn_cast<UnaryOperator>(Up[I + 2]) : nullptr;
      if (Addr && Addr->getOpcode() == UO_AddrOf && storedAway(Up, I + 2))
        return PerCpuUseKind::Read;
      return PerCpuUseKind::Address;
    }
    if (isa<MemberExpr>(Q)) // sd->list->next: through a pointer field
      return PerCpuUseKind::Read;
    return PerCpuUseKind::Read;
  }

  // The value of S (being visited) is used: an operand, an initializer, a
  // returned value or a condition; not a statement of its own.
  bool valueUsed(const Stmt *S) const {
    if (Parents.size() < 2 || !isa<Expr>(S))
      return false;
    const Stmt *P = Parents[Parents.size() - 2];
    if (isa<Expr, ReturnStmt, DeclStmt>(P))
      return true;
    if (const auto *If = dyn_cast<IfStmt>(P))
      return If->getCond() == S;
    if (const auto *W = dyn_cast<WhileStmt>(P))
      return W->getCond() == S;
    if (const auto *Sw = dyn_cast<SwitchStmt>(P))
      return Sw->getCond() == S;
    return false;
  }
  std::vector<std::pair<const VarDecl *, const Expr *>> Stores;

  // The field an accessor names: "softnet_data.xmit.recursion" -> "xmit".
  static std::string fieldOf(const VarDecl &Var, StringRef Spelled) {
    std::string Squeezed;
    for (char C : Spelled)
      if (!isspace((unsigned char)C) && C != '(' && C != ')' && C != '&')
        Squeezed += C;
    StringRef Rest = StringRef(Squeezed);
    if (!Rest.consume_front(Var.getName()) || !Rest.consume_front("."))
      return "";
    return Rest.take_while([](char C) { return isalnum((unsigned char)C) || C == '_'; }).str();
  }

  // The DEFINE_PER_CPU variable the programmer wrote in the accessor's
  // argument, in the file of the accessor at Site (not this_cpu_off of the
  // accessor's own body; a header inline's softnet_data is the header's).
  const VarDecl *writtenPerCpuVar(const Stmt *S, SourceLocation Site) const {
    struct Finder : RecursiveASTVisitor<Finder> {
      const SourceManager &SM;
      FileID In;
      const VarDecl *Found = nullptr;
      Finder(const SourceManager &SM, FileID In) : SM(SM), In(In) {}
      bool VisitDeclRefExpr(DeclRefExpr *R) {
        const auto *VD = dyn_cast<VarDecl>(R->getDecl());
        if (VD && isPerCpuVariable(VD) && SM.getFileID(SM.getSpellingLoc(R->getLocation())) == In) {
          Found = VD;
          return false;
        }
        return true;
      }
    } F(SM, SM.getFileID(SM.getFileLoc(Site)));
    F.TraverseStmt(const_cast<Stmt *>(S));
    return F.Found;
  }
};

} // namespace

bool storesIntoObject(const Stmt *S, const Expr *Value) {
  const auto *B = dyn_cast_or_null<BinaryOperator>(S);
  if (!B || B->getOpcode() != BO_Assign ||
      B->getRHS()->IgnoreParenImpCasts() != Value->IgnoreParenImpCasts())
    return false;
  const Expr *To = B->getLHS()->IgnoreParenImpCasts();
  const auto *Deref = dyn_cast<UnaryOperator>(To);
  return isa<MemberExpr>(To) || (Deref && Deref->getOpcode() == UO_Deref);
}

bool refersTo(const Stmt *S, const VarDecl *VD) {
  struct Finder : RecursiveASTVisitor<Finder> {
    const VarDecl *VD;
    bool Found = false;
    bool VisitDeclRefExpr(DeclRefExpr *R) {
      Found |= R->getDecl() == VD;
      return !Found;
    }
  } Fn;
  Fn.VD = VD;
  Fn.TraverseStmt(const_cast<Stmt *>(S));
  return Fn.Found;
}

std::vector<PerCpuAccess> findPerCpuAccesses(const FunctionDecl *FD, ASTContext &Ctx) {
  AccessFinder Finder(Ctx);
  Finder.TraverseStmt(FD->getBody());
  Finder.resolveLocals();
  Finder.resolveUses();
  return std::move(Finder.Accesses);
}

} // namespace rtcheck
